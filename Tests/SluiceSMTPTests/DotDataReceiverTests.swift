// DATA end detection and dot-unstuffing, including the SMTP smuggling inputs
// (CVE-2023-51764): only CRLF.CRLF ends the data, whatever the chunking.

import NIOCore
import XCTest

@testable import SluiceSMTP

final class DotDataReceiverTests: XCTestCase {
    /// Feeds `input` in chunks of `chunk` bytes; returns (content, ended, leftover).
    func run(_ input: String, chunk: Int = .max) -> (String, Bool, String) {
        var receiver = DotDataReceiver()
        var out = ByteBuffer()
        let bytes = Array(input.utf8)
        var index = 0
        var pending = ByteBuffer()
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            pending.writeBytes(bytes[index..<end])
            index = end
            if receiver.consume(&pending, into: &out) {
                pending.writeBytes(bytes[index...])
                return (String(buffer: out), true, String(buffer: pending))
            }
        }
        return (String(buffer: out), false, String(buffer: pending))
    }

    func testEndsOnlyAtCRLFDotCRLF() {
        for chunk in [1, 2, 3, 7, 1000] {
            let (content, ended, rest) = run("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", chunk: chunk)
            XCTAssertTrue(ended)
            XCTAssertEqual(content, "Subject: x\r\n\r\nbody\r\n")
            XCTAssertEqual(rest, "QUIT\r\n")
        }
    }

    func testEmptyMessage() {
        let (content, ended, _) = run(".\r\n")
        XCTAssertTrue(ended)
        XCTAssertEqual(content, "")
    }

    func testDotUnstuffing() {
        let (content, ended, _) = run("..leading\r\n...two\r\n.\r\n", chunk: 1)
        XCTAssertTrue(ended)
        XCTAssertEqual(content, ".leading\r\n..two\r\n")
    }

    func testSmugglingVariantsNeverEndData() {
        let variants = [
            "a\n.\nMAIL FROM:<x@evil>\r\n",
            "a\r\n.\nMAIL FROM:<x@evil>\r\n",
            "a\n.\r\nMAIL FROM:<x@evil>\r\n",
            "a\r.\rMAIL FROM:<x@evil>\r\n",
            "a\r.\r\nMAIL FROM:<x@evil>\r\n",
            "a\r\n.\rMAIL FROM:<x@evil>\r\n",
        ]
        for v in variants {
            for chunk in [1, 2, 1000] {
                let (_, ended, _) = run(v, chunk: chunk)
                XCTAssertFalse(ended, "ended early on \(v.debugDescription) chunk \(chunk)")
            }
        }
    }

    func testDotLineFollowedByBareCRKeepsTheCR() {
        let (content, ended, _) = run("a\r\n.\rb\r\n.\r\n")
        XCTAssertTrue(ended)
        XCTAssertEqual(content, "a\r\n\rb\r\n")
    }
}
