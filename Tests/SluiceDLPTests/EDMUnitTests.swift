// Exact Data Match's own logic: the CSV reader's quoting and line numbers,
// normalisation of numbers and addresses on both sides, the index file's
// round trip and key check, and a record's distinct columns counted once.

import Foundation
import XCTest

import SluiceCore
@testable import SluiceDLP

final class EDMUnitTests: XCTestCase {
    func testCSVQuotingLineBreaksAndErrorsWithTheirLine() throws {
        var r = CSVReader(Array("\u{FEFF}a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\n2,\"two\nlines\",4\n5,,\n".utf8))
        XCTAssertEqual(try r.next()?.fields, ["a", "b", "c"])
        let second = try XCTUnwrap(try r.next())
        XCTAssertEqual(second.line, 2)
        XCTAssertEqual(second.fields, ["1", "x, \"y\"", "3"])
        let third = try XCTUnwrap(try r.next())
        XCTAssertEqual(third.line, 4)
        XCTAssertEqual(third.fields, ["2", "two\nlines", "4"])
        XCTAssertEqual(try r.next()?.line, 6)
        XCTAssertNil(try r.next())
        var bad = CSVReader(Array("a,b\n1,\"open\n2,3\n".utf8))
        _ = try bad.next()
        XCTAssertThrowsError(try bad.next()) { XCTAssertEqual(($0 as? CSVReader.Invalid)?.line, 2) }
        var stray = CSVReader(Array("a,b\n1,x\"y\n".utf8))
        _ = try stray.next()
        XCTAssertThrowsError(try stray.next()) { XCTAssertEqual(($0 as? CSVReader.Invalid)?.line, 2) }
    }

    func testValuesNormaliseTheSameOnBothSides() {
        XCTAssertEqual(EDMValue.normalise(" (415) 555-2671 ")?.normal, Array("4155552671".utf8))
        XCTAssertEqual(EDMValue.normalise("4111\u{00A0}1111\u{2013}1111 1111")?.normal, Array("4111111111111111".utf8))
        XCTAssertEqual(EDMValue.normalise("Jane.Doe@Example.ORG")?.kind, .email)
        XCTAssertEqual(EDMValue.normalise("Jane.Doe@Example.ORG")?.normal, Array("jane.doe@example.org".utf8))
        XCTAssertNil(EDMValue.normalise("Jane Doe"), "names are not looked for")
        XCTAssertNil(EDMValue.normalise("123"), "too short to be an identifier")
        let groups = EDMValue.numbers(in: Array("12345678 4155552671".utf8)[...], lengths: 8...10).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(groups, ["12345678", "4155552671"])
        XCTAssertEqual(EDMValue.numbers(in: Array("4111 1111 1111 1111".utf8)[...], lengths: 16...16).count, 1)
    }

    func source() -> EDMSource {
        EDMSource(name: "customers", file: "/d/customers.csv", columns: ["account", "email"], keyFile: "/k", indexFile: "/i")
    }

    func testTheIndexRoundTripsAndKnowsItsKey() throws {
        let key = EDMKey(bytes: Array(repeating: 7, count: 32))
        let csv = Array("name,account,email\nA,4000000001,a@example.test\nB,4000000002,\nC,n/a,c@example.test\n".utf8)
        let (index, report) = try EDMImport.build(source(), csv: csv, key: key, now: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(report.records, 3)
        XCTAssertEqual(report.values, 4)
        XCTAssertEqual(report.skipped, 2)
        XCTAssertEqual(report.firstSkippedLine, 3)
        XCTAssertEqual(index.header.columns.map(\.kind), [.number, .email])
        let bytes = try index.encoded()
        XCTAssertNil(String(decoding: bytes, as: UTF8.self).range(of: "4000000001"))
        let read = try EDMIndex.decode(bytes, file: "/i")
        XCTAssertEqual(read.header, index.header)
        XCTAssertEqual(read.entries, index.entries)
        XCTAssertEqual(read.header.keyCheck, String(key.check, radix: 16))
        XCTAssertNotEqual(read.header.keyCheck, String(EDMKey(bytes: Array(repeating: 8, count: 32)).check, radix: 16))
        XCTAssertThrowsError(try EDMIndex.decode(Array(bytes.dropLast(3)), file: "/i"))

        let matcher = try XCTUnwrap(try EDMMatcher([(index, key)]))
        var hits = EDMMatcher.Hits()
        try matcher.scan(Array("acct 4000000001 (A@Example.test), again 4000-0000-01, and 4000000002".utf8), part: "body", base: 0, into: &hits)
        let results = matcher.results(hits)
        XCTAssertEqual(results["customers"], EDMMatch(fields: 2, columns: ["account", "email"], records: 2))
        XCTAssertEqual(hits.findings.map(\.snippet), ["customers.account", "customers.email", "customers.account", "customers.account"])
    }

    func testAColumnOfNeitherKindStopsTheImport() {
        let key = EDMKey(bytes: Array(repeating: 7, count: 32))
        let csv = Array("account,email\nJane Doe,a@example.test\n".utf8)
        XCTAssertThrowsError(try EDMImport.build(source(), csv: csv, key: key, now: Date())) {
            XCTAssertTrue("\($0)".contains("/d/customers.csv:2: column 'account' holds neither a number"), "\($0)")
        }
    }
}
