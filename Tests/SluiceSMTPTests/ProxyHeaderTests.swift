// PROXY protocol v1 and v2 headers, whole and split, valid and hostile.

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceServer

final class ProxyHeaderTests: XCTestCase {
    func parse(_ bytes: [UInt8]) -> (ProxyHeader, Int) {
        var b = ByteBuffer(bytes: bytes)
        let r = ProxyHeader.parse(&b)
        return (r, b.readableBytes)
    }

    func testV1() {
        let line = Array("PROXY TCP4 203.0.113.7 192.0.2.1 40001 25\r\nEHLO x\r\n".utf8)
        XCTAssertEqual(parse(line).0, .proxied(address: IPAddress("203.0.113.7")!, port: 40001))
        XCTAssertEqual(parse(line).1, 8)  // "EHLO x\r\n" stays for SMTP
        XCTAssertEqual(parse(Array("PROXY TCP6 2001:db8::7 2001:db8::1 1 25\r\n".utf8)).0, .proxied(address: IPAddress("2001:db8::7")!, port: 1))
        XCTAssertEqual(parse(Array("PROXY UNKNOWN\r\n".utf8)).0, .local)
        for cut in [1, 5, 20] { XCTAssertEqual(parse(Array(line.prefix(cut))).0, .needMore) }
    }

    func testV1Hostile() {
        for bad in ["PROXY TCP4 1.2.3.4 5.6.7.8 99999 25\r\n", "PROXY TCP4 nonsense 5.6.7.8 1 25\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 1 25\n",
                    "EHLO x\r\n", "PROXY " + String(repeating: "9", count: 200)] {
            guard case .invalid = parse(Array(bad.utf8)).0 else { return XCTFail("accepted \(bad.debugDescription)") }
        }
    }

    func v2(command: UInt8, family: UInt8, body: [UInt8]) -> [UInt8] {
        ProxyHeader.v2Signature + [0x20 | command, family, UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
    }

    func testV2() {
        let v4 = v2(command: 1, family: 0x11, body: [198, 51, 100, 9, 192, 0, 2, 1, 0x9c, 0x41, 0, 25])
        XCTAssertEqual(parse(v4).0, .proxied(address: IPAddress("198.51.100.9")!, port: 40001))
        var v6body = [UInt8](repeating: 0, count: 36)
        v6body[0] = 0x20; v6body[1] = 0x01; v6body[2] = 0x0d; v6body[3] = 0xb8; v6body[15] = 7
        v6body[32] = 0; v6body[33] = 80
        XCTAssertEqual(parse(v2(command: 1, family: 0x21, body: v6body)).0, .proxied(address: IPAddress("2001:db8::7")!, port: 80))
        XCTAssertEqual(parse(v2(command: 0, family: 0, body: [])).0, .local)
        XCTAssertEqual(parse(Array(v4.prefix(14))).0, .needMore)
        XCTAssertEqual(parse(Array(v4.prefix(20))).0, .needMore)
        guard case .invalid = parse(v2(command: 1, family: 0x11, body: [1, 2, 3])).0 else { return XCTFail("short block") }
        guard case .invalid = parse(v2(command: 5, family: 0x11, body: [])).0 else { return XCTFail("bad command") }
    }
}
