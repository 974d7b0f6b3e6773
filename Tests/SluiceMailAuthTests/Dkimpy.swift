// Running Tests/interop/dkim_verify.py (dkimpy, Debian python3-dkim) for the
// DKIM tests: the script's combined output and exit status; the test is
// skipped, not failed, where python3 or dkimpy is missing (make test installs both).

import Foundation
import XCTest

enum Dkimpy {
    static let verifyScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop/dkim_verify.py").standardizedFileURL.path

    /// dkim_verify.py with these arguments: (exit status, stdout and stderr together).
    static func verify(_ arguments: [String]) throws -> (Int32, String) {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else { throw XCTSkip("python3 missing; make test installs it") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [verifyScript] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if text.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing; make test installs it") }
        return (p.terminationStatus, text)
    }
}
