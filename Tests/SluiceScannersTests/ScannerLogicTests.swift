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
    }
}
