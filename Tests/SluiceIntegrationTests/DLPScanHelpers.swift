// What the DLP integration tests share: documents made by the libraries that
// make them (Tests/interop/make_documents.py), and `sluice dlp scan --json`
// read back as findings and unscannable parts per file.

import Foundation
import XCTest

/// A file's result in `sluice dlp scan --json`: findings as (detector, path), unscannable parts as (reason, path).
typealias DLPScanResult = (findings: [(String, String)], unscannable: [(String, String)])

/// For each name of `lines`, a directory of documents holding its line (see make_documents.py); removed after the test.
func makeDocuments(_ lines: [String: String], for test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "sluice-docs-\(UUID().uuidString.prefix(8))"
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    let python = ProcessInfo.processInfo.environment["SLUICE_TEST_PYTHON"] ?? which("python3") ?? "/usr/bin/python3"
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop/make_documents.py").path
    let input = String(decoding: try JSONSerialization.data(withJSONObject: lines), as: UTF8.self)
    let (status, _, err) = try runTool(python, [script, dir], stdin: input, timeout: 120)
    XCTAssertEqual(status, 0, "make_documents.py (python-docx, openpyxl, python-pptx, odfpy, reportlab; `make deps-test` installs them): \(err)")
    return dir
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
