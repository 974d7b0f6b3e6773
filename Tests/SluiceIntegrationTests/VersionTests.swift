// `sluice --version` (SPEC CLI additions).

import Foundation
import XCTest

final class VersionTests: XCTestCase {
    func testVersionPrintsTheVersionAndBuild() throws {
        let (status, out, err) = try runTool(DaemonProcess.binary, ["--version"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.hasPrefix("sluice 0."), out)
        XCTAssertTrue(out.contains("build)"), out)
    }
}
