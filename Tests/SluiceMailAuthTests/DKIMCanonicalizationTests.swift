// DKIM canonicalization on RFC 6376's own example (§3.4.5) and the edges a
// streamed body has: chunks that split CRLF, empty bodies, blank and
// whitespace-only trailing lines, a last line without CRLF.

import XCTest

@testable import SluiceMailAuth

final class DKIMCanonicalizationTests: XCTestCase {
    func body(_ text: String, _ c: DKIMCanonicalization, chunk: Int = 3) -> String {
        var canon = DKIMBodyCanonicalizer(c)
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            Array(bytes[i..<min(bytes.count, i + chunk)]).withUnsafeBytes { canon.update($0) { out += $0 } }
            i += chunk
        }
        canon.finish { out += $0 }
        XCTAssertEqual(canon.written, out.count)
        return String(decoding: out, as: UTF8.self)
    }

    func header(_ field: String, _ c: DKIMCanonicalization) -> String {
        String(decoding: DKIMHeaderCanonicalizer.canonicalize(Array(field.utf8), c), as: UTF8.self)
    }

    func testRFC6376Example() {
        XCTAssertEqual(header("A: X", .relaxed), "a:X\r\n")
        XCTAssertEqual(header("B : Y\t\r\n\tZ  ", .relaxed), "b:Y Z\r\n")
        XCTAssertEqual(header("B : Y\t\r\n\tZ  ", .simple), "B : Y\t\r\n\tZ  \r\n")
        for chunk in [1, 2, 3, 100] {
            XCTAssertEqual(body(" C \r\nD \t E\r\n\r\n\r\n", .relaxed, chunk: chunk), " C\r\nD E\r\n")
            XCTAssertEqual(body(" C \r\nD \t E\r\n\r\n\r\n", .simple, chunk: chunk), " C \r\nD \t E\r\n")
        }
    }

    func testEmptyBodiesAndTrailingLines() {
        XCTAssertEqual(body("", .relaxed), "")
        XCTAssertEqual(body("", .simple), "\r\n")
        XCTAssertEqual(body("\r\n\r\n", .relaxed), "")
        XCTAssertEqual(body("\r\n\r\n", .simple), "\r\n")
        XCTAssertEqual(body("a\r\n  \r\n\t\r\n", .relaxed), "a\r\n", "whitespace-only lines are empty once relaxed")
        XCTAssertEqual(body("a\r\n  \r\n\t\r\n", .simple), "a\r\n  \r\n\t\r\n", "but not under simple")
        XCTAssertEqual(body("a\r\n\r\nb\r\n\r\n", .relaxed), "a\r\n\r\nb\r\n", "inner blank lines stay")
        XCTAssertEqual(body("no line end", .relaxed), "no line end\r\n")
        XCTAssertEqual(body("no line end", .simple), "no line end\r\n")
    }

    func testHeaderValuesAreUnfoldedAndNamesLowercased() {
        XCTAssertEqual(header("SUBJECT:   many   spaces   ", .relaxed), "subject:many spaces\r\n")
        XCTAssertEqual(header("Subject:", .relaxed), "subject:\r\n")
        XCTAssertEqual(header("To: a,\r\n  b", .relaxed), "to:a, b\r\n")
        XCTAssertEqual(header("Subject: Grüße", .relaxed), "subject:Grüße\r\n", "8-bit bytes are kept")
    }
}
