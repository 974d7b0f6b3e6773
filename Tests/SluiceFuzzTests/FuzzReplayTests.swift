// Replays the fuzz seed corpus and every input a fuzzer ever crashed on
// (Tests/fuzz/<target>/, kept there as regressions) through the same target
// functions `make fuzz` runs, so a fixed crash stays fixed in `make test`.

import Foundation
import SluiceFuzz
import XCTest

final class FuzzReplayTests: XCTestCase {
    func testSMTPInputs() throws { try replay("smtp", SMTPSessionFuzz.run) }
    func testMIMEInputs() throws { try replay("mime", MIMEFuzz.run) }
    func testRulesInputs() throws { try replay("rules", RulesFuzz.run) }

    private func replay(_ target: String, _ run: (UnsafeRawBufferPointer) -> Void) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/\(target)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertGreaterThan(files.count, 0, "no inputs in \(dir.path)")
        for file in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            data.withUnsafeBytes { run($0) }
        }
    }
}
