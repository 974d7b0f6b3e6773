// What the DLP integration tests share: documents made by the libraries that
// make them (Tests/interop/make_documents.py), and `sluice dlp scan --json`
// read back as findings and unscannable parts per file.

import Foundation
import XCTest

/// A file's result in `sluice dlp scan --json`: findings as (detector, path), unscannable parts as (reason, path).
typealias DLPScanResult = (findings: [(String, String)], unscannable: [(String, String)])

/// Runs `Tests/interop/SCRIPT OUTDIR ARGUMENTS...` (with `stdin`) into a fresh directory, removed after the test; a
/// missing library fails the test (`make deps-test` installs them: `needs` says which).
func makeInteropFiles(
    _ script: String, _ arguments: [String] = [], stdin: String? = nil, needs: String, prefix: String, for test: XCTestCase
) throws -> String {
    let dir = NSTemporaryDirectory() + "sluice-\(prefix)-\(UUID().uuidString.prefix(8))"
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    let python = ProcessInfo.processInfo.environment["SLUICE_TEST_PYTHON"] ?? which("python3") ?? "/usr/bin/python3"
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/\(script)").path
    let (status, _, err) = try runTool(python, [path, dir] + arguments, stdin: stdin, timeout: 120)
    XCTAssertEqual(status, 0, "\(script) (\(needs); `make deps-test` installs them): \(err)")
    return dir
}

/// For each name of `lines`, a directory of documents holding its line (see make_documents.py); removed after the test.
func makeDocuments(_ lines: [String: String], for test: XCTestCase) throws -> String {
    let input = String(decoding: try JSONSerialization.data(withJSONObject: lines), as: UTF8.self)
    return try makeInteropFiles(
        "make_documents.py", stdin: input, needs: "python-docx, openpyxl, python-pptx, odfpy, reportlab", prefix: "docs", for: test)
}

/// `sluice dlp scan --json FILES` with the daemon's configuration, per file; `check` sees each finding's JSON.
func dlpScan(_ d: DaemonProcess, _ files: [String], check: ([String: Any]) -> Void = { _ in }) throws -> [String: DLPScanResult] {
    let (status, out, err) = try d.cli(["dlp", "scan", "--json"] + files)
    XCTAssertEqual(status, 0, err)
    let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    var result: [String: DLPScanResult] = [:]
    for f in json["files"] as? [[String: Any]] ?? [] {
        (f["findings"] as? [[String: Any]] ?? []).forEach(check)
        let findings = (f["findings"] as? [[String: Any]] ?? []).map { ($0["detector"] as? String ?? "", $0["path"] as? String ?? "") }
        let unscannable = (f["unscannable"] as? [[String: Any]] ?? []).map { ($0["reason"] as? String ?? "", $0["path"] as? String ?? "") }
        result[f["file"] as? String ?? ""] = (findings, unscannable)
    }
    return result
}
