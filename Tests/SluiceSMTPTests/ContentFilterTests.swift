// Bare line endings, NUL bytes, size and header collection of streamed content.

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class ContentFilterTests: XCTestCase {
    func filter(_ chunks: [String], policy: BareLineEndingPolicy, max: Int = 1 << 20) -> (ContentFilter, String) {
        var f = ContentFilter(policy: policy, maxSize: max)
        var out = ""
        for c in chunks {
            if let b = f.process(ByteBuffer(string: c)) { out += String(buffer: b) }
        }
        if let t = f.finish() { out += String(buffer: t) }
        return (f, out)
    }

    func testCleanContentPassesUnchanged() {
        let (f, out) = filter(["Subject: a\r\n\r\nbody\r\n"], policy: .reject)
        XCTAssertNil(f.refusal)
        XCTAssertEqual(out, "Subject: a\r\n\r\nbody\r\n")
        XCTAssertEqual(f.headers.first("subject"), "a")
    }

    func testBareLFIsRejectedByDefaultPolicy() {
        let (f, _) = filter(["Subject: a\n\nbody\n"], policy: .reject)
        XCTAssertEqual(f.refusal?.reply.code, 554)
        XCTAssertEqual(f.refusal?.reply.status, EnhancedStatus(5, 6, 0))
    }

    func testNormalizeTurnsBareCRAndLFIntoCRLF() {
        for chunks in [["a\nb\rc\r\n"], ["a", "\n", "b", "\r", "c\r", "\n"], ["a\r", "\r", "\n"]] {
            let (f, out) = filter(chunks, policy: .normalize)
            XCTAssertNil(f.refusal, "\(chunks)")
            XCTAssertFalse(out.utf8.enumerated().contains { i, b in
                let bytes = Array(out.utf8)
                return (b == 10 && (i == 0 || bytes[i - 1] != 13)) || (b == 13 && (i + 1 >= bytes.count || bytes[i + 1] != 10))
            }, "\(chunks) -> \(out.debugDescription)")
        }
        XCTAssertEqual(filter(["a\nb\rc\r\n"], policy: .normalize).1, "a\r\nb\r\nc\r\n")
        XCTAssertEqual(filter(["a\r"], policy: .normalize).1, "a\r\n")
    }

    func testNULIsRefused() {
        let (f, _) = filter(["a\u{0}b\r\n"], policy: .normalize)
        XCTAssertEqual(f.refusal?.reply.code, 554)
    }

    func testSizeLimit() {
        let (f, _) = filter([String(repeating: "x", count: 100) + "\r\n"], policy: .reject, max: 50)
        XCTAssertEqual(f.refusal?.reply.code, 552)
        XCTAssertEqual(f.refusal?.reply.status, EnhancedStatus(5, 3, 4))
    }

    func testHeadersSplitAcrossChunks() {
        let (f, _) = filter(["From: a@b\r\nSubj", "ect: hel\r\n", " lo\r", "\n\r\nbody\r\nX-Not: header\r\n"], policy: .reject)
        XCTAssertEqual(f.headers.first("Subject"), "hel lo")
        XCTAssertNil(f.headers.first("X-Not"))
    }
}
