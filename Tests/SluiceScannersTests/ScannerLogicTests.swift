// The scanners' own logic: clamd's answers (clean, found, errors and
// garbage are errors, never a pass), and the section's addresses and choices.

import SluiceCore
import XCTest

@testable import SluiceConfig
@testable import SluiceScanners

final class ScannerLogicTests: XCTestCase {
    func testClamdAnswers() throws {
        XCTAssertEqual(try ClamdClient.parse("stream: OK\0"), .clean)
        XCTAssertEqual(try ClamdClient.parse("stream: Win.Test.EICAR_HDB-1 FOUND\0"), .infected("Win.Test.EICAR_HDB-1"))
        XCTAssertThrowsError(try ClamdClient.parse("INSTREAM size limit exceeded. ERROR\0"))
        XCTAssertThrowsError(try ClamdClient.parse("stream: FOUND"), "a FOUND without a name is garbage")
        XCTAssertThrowsError(try ClamdClient.parse("\u{1}\u{2}garbage"))
        XCTAssertThrowsError(try ClamdClient.parse(""), "a closed connection is no answer")
    }

    func testSpamdAnswers() throws {
        let spam = try SpamdClient.parse(Array("SPAMD/1.1 0 EX_OK\r\nContent-length: 12\r\nSpam: True ; 1000.5 / 5.0\r\n\r\nGTUBE,NO_RELAYS".utf8))
        XCTAssertEqual(spam, SpamAnswer(isSpam: true, score: 1000.5, threshold: 5, symbols: ["GTUBE", "NO_RELAYS"]))
        let ham = try SpamdClient.parse(Array("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.1 / 5.0\r\n\r\n".utf8))
        XCTAssertEqual(ham, SpamAnswer(isSpam: false, score: -0.1, threshold: 5, symbols: []))
        XCTAssertThrowsError(try SpamdClient.parse(Array("SPAMD/1.0 76 Bad header line: x\r\n\r\n".utf8)))
        XCTAssertThrowsError(try SpamdClient.parse(Array("SPAMD/1.1 0 EX_OK\r\n\r\nGTUBE".utf8)), "no Spam: header")
        XCTAssertThrowsError(try SpamdClient.parse(Array("SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; x / y\r\n\r\n".utf8)))
        XCTAssertThrowsError(try SpamdClient.parse([]), "a closed connection is no answer")
    }

    func testTheSectionReadsAddressesAndChoices() throws {
        let context = ConfigContext(file: "/e/sluice.yaml", baseDirectory: "/srv", dataDir: "/var", hostname: "h")
        func section(_ yaml: String) throws -> ScannersSection {
            try ScannersSection(try ConfigNode.root(yaml: yaml, file: "/e/sluice.yaml").mapping(allowed: ["scanners"])["scanners"], context)
        }
        XCTAssertEqual(try section("scanners:\n  virus: { socket: run/clamd.ctl }\n").virus?.address, .unix("/srv/run/clamd.ctl"))
        let tcp = try section("scanners:\n  virus: { socket: \"tcp:127.0.0.1:3310\", timeout: 5s, on_error: accept }\n").virus
        XCTAssertEqual(tcp?.address, .tcp(host: "127.0.0.1", port: 3310))
        XCTAssertEqual(tcp?.timeout, 5)
        XCTAssertEqual(tcp?.onError, .accept)
        XCTAssertThrowsError(try section("scanners:\n  virus: { socket: \"tcp:nowhere\" }\n")) { XCTAssertTrue("\($0)".contains(":2:"), "\($0)") }
        XCTAssertThrowsError(try section("scanners:\n  virus: { socket: /s, on_error: ignore }\n"))
        XCTAssertThrowsError(try section("scanners:\n  virus: { timeout: 5s }\n")) { XCTAssertTrue("\($0)".contains("needs socket"), "\($0)") }
        XCTAssertEqual(try section("scanners:\n  spam: { spamd: \"127.0.0.1:783\" }\n").spam?.address, .tcp(host: "127.0.0.1", port: 783))
        XCTAssertEqual(try section("scanners:\n  spam: { spamd: unix:/run/spamd.sock }\n").spam?.address, .unix("/run/spamd.sock"))
    }
}
