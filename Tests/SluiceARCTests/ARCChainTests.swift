// The pure parts of ARC: tag lists, reading the sets of a header section
// (incomplete, duplicated or out-of-range instances are failures), the
// field a signature covers (b= emptied), and this hop's results for the AAR.

import XCTest

@testable import SluiceARC

final class ARCChainTests: XCTestCase {
    func field(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testTagLists() {
        XCTAssertEqual(TagList.parse(" i=1; a=rsa-sha256;\r\n\t b=ab cd\r\n\t ef; d=x.example")?["b"], "abcdef")
        XCTAssertNil(TagList.parse("i=1; i=2"))
        XCTAssertNil(TagList.parse("no equals sign"))
    }

    func testSetsAreReadByInstance() throws {
        let set1 = [
            field("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=a.example; s=s; b=AAA"),
            field("ARC-Message-Signature: i=1; a=rsa-sha256; d=a.example; s=s; h=from; bh=x; b=BBB"),
            field("ARC-Authentication-Results: i=1; a.example; dkim=pass"),
        ]
        let chain = try ARCChain.read(set1 + [field("From: x@y.example")])
        XCTAssertEqual(chain.sets.count, 1)
        XCTAssertEqual(chain.sets[0].sealTags["cv"], "none")
        XCTAssertEqual(try ARCChain.read([field("Subject: none")]).sets.count, 0)
        XCTAssertThrowsError(try ARCChain.read(Array(set1.prefix(2)))) { XCTAssertTrue("\($0)".contains("incomplete"), "\($0)") }
        XCTAssertThrowsError(try ARCChain.read(set1 + [set1[0]])) { XCTAssertTrue("\($0)".contains("two arc-seal"), "\($0)") }
        XCTAssertThrowsError(try ARCChain.read([field("ARC-Seal: i=51; cv=pass")])) { XCTAssertTrue("\($0)".contains("outside 1-50"), "\($0)") }
        XCTAssertThrowsError(try ARCChain.read([field("ARC-Seal: cv=pass")])) { XCTAssertTrue("\($0)".contains("i= tag"), "\($0)") }
    }

    func testTheSignedFormHasAnEmptyB() {
        XCTAssertEqual(
            String(decoding: ARCChain.withoutSignature(field("ARC-Seal: i=1; a=rsa-sha256; b=ab\r\n\t cd; d=x")), as: UTF8.self),
            "ARC-Seal: i=1; a=rsa-sha256; b=; d=x")
        // bh= is not b=.
        XCTAssertEqual(
            String(decoding: ARCChain.withoutSignature(field("ARC-Message-Signature: bh=xyz; b=sig")), as: UTF8.self), "ARC-Message-Signature: bh=xyz; b=")
    }

    func testThisHopsResultsForTheAAR() {
        let prepended = ["X-Other: 1", "Authentication-Results: mx.example;\r\n\tspf=pass smtp.mailfrom=a@b;\r\n\tdkim=pass header.d=b", "Authentication-Results: other.example; dkim=fail",
            "Authentication-Results: mx.example;\r\n\tarc=pass (i=1)"]
        XCTAssertEqual(ARCSealModifier.ourResults(prepended, authservID: "MX.example"), ["spf=pass smtp.mailfrom=a@b", "dkim=pass header.d=b", "arc=pass (i=1)"])
    }

    func testRecordedResultsOfAnAAR() {
        XCTAssertEqual(
            RecordedResults.parse(field("ARC-Authentication-Results: i=1; lists.example;\r\n\tdkim=pass header.d=a.example;\r\n\tDMARC=Pass header.from=a.example; spf=fail")),
            ["dkim": "pass", "dmarc": "pass", "spf": "fail"])
    }
}
