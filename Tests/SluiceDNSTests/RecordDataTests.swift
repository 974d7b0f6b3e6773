import SluiceCore
import XCTest

@testable import SluiceDNS

final class RecordDataTests: XCTestCase {
    func testDecodesAddresses() throws {
        XCTAssertEqual(try RecordData.decode(.a, [192, 0, 2, 7]), .a("192.0.2.7"))
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        XCTAssertEqual(try RecordData.decode(.aaaa, v6), .aaaa("2001:db8::1"))
        XCTAssertThrowsError(try RecordData.decode(.a, [1, 2, 3]))
        XCTAssertThrowsError(try RecordData.decode(.aaaa, [1, 2, 3, 4]))
    }

    func testDecodesMXIncludingTheNullMX() throws {
        let mx: [UInt8] = [0, 10, 3] + Array("mx1".utf8) + [7] + Array("example".utf8) + [0]
        XCTAssertEqual(try RecordData.decode(.mx, mx), .mx(MXRecord(preference: 10, exchange: "mx1.example")))
        XCTAssertEqual(try RecordData.decode(.mx, [0, 0, 0]), .mx(MXRecord(preference: 0, exchange: "")))
        // A label that runs past the end, and a missing terminator, are errors rather than crashes.
        XCTAssertThrowsError(try RecordData.decode(.mx, [0, 10, 9, 65]))
        XCTAssertThrowsError(try RecordData.decode(.mx, [0, 10, 1, 65]))
    }

    func testDecodesTXTStringsSeparately() throws {
        let txt: [UInt8] = [7] + Array("v=spf1 ".utf8) + [4] + Array("-all".utf8) + [0]
        XCTAssertEqual(try RecordData.decode(.txt, txt), .txt(["v=spf1 ", "-all", ""]))
        XCTAssertEqual(DNSAnswer(status: .ok, records: [try RecordData.decode(.txt, txt)], ttl: 1).texts, ["v=spf1 -all"])
        XCTAssertThrowsError(try RecordData.decode(.txt, [5, 65]))
    }
}
