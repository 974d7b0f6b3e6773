// Zip attachments: entries made by Python's zipfile (stored and deflated,
// nested) are opened and scanned as their own parts; an archive that would
// expand far past its size is reported as a zip bomb instead of unpacked.

import Foundation
import XCTest

@testable import SluiceDLP

final class ZipScanTests: XCTestCase {
    func makeZip(_ script: String) throws -> [UInt8] { try Self.makeZip(script) }

    /// Runs Python's zipfile; `script` gets `out` (the path to write) and builds the archive.
    static func makeZip(_ script: String) throws -> [UInt8] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let path = NSTemporaryDirectory() + "zip-\(UUID().uuidString).zip"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import io, zipfile\nout = '\(path)'\n" + script]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func message(attaching zip: [UInt8], named name: String) -> [UInt8] {
        let b64 = Data(zip).base64EncodedString(options: .lineLength76Characters)
        return Array(
            "From: a@example.test\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nattached\r\n--z\r\nContent-Type: application/zip; name=\"\(name)\"\r\nContent-Disposition: attachment; filename=\"\(name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\(b64)\r\n--z--\r\n"
                .utf8)
    }

    func scanner() throws -> DLPScanner {
        try DLPScanner(book: try DLPBook.parse(yaml: """
            profiles:
              leaks: { detectors: [credit_card, aws_access_key_id, zip_bomb] }
            """, file: "/r/dlp.yaml"))
    }

    func testEntriesAndNestedArchivesAreScanned() throws {
        let zip = try makeZip("""
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('deep/secrets.txt', 'aws_access_key_id=AKIAIOSFODNN7EXAMPLE\\n')
            with zipfile.ZipFile(out, 'w') as z:
                z.writestr('cards.csv', 'name,card\\nJane,4111 1111 1111 1111\\n', compress_type=zipfile.ZIP_DEFLATED)
                z.writestr('logo.png', b'\\x89PNG not text 4111 1111 1111 1111', compress_type=zipfile.ZIP_STORED)
                z.writestr('more.zip', inner.getvalue())
            """)
        let report = try scanner().scan(message(attaching: zip, named: "files.zip"))
        let parts = report.findings.map { "\($0.detector) \($0.part)" }.sorted()
        // The binary entry is read for its printable runs: a card number pasted into it is found too.
        XCTAssertEqual(parts, [
            "aws_access_key_id attachment files.zip/more.zip/deep/secrets.txt", "credit_card attachment files.zip/cards.csv",
            "credit_card attachment files.zip/logo.png",
        ])
        XCTAssertEqual(report.counts["leaks"], 3)
    }

    func testAZipBombIsAFindingNotAnAllocation() throws {
        let zip = try makeZip("""
            with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('zeros.txt', b'0' * (80 << 20))
            """)
        XCTAssertLessThan(zip.count, 1 << 20)
        let report = try scanner().scan(message(attaching: zip, named: "bomb.zip"))
        XCTAssertEqual(report.findings.map(\.detector), ["zip_bomb"], "\(report.findings)")
        XCTAssertEqual(report.counts["leaks"], 1)
        XCTAssertTrue(report.findings.first?.snippet.contains("bomb.zip/zeros.txt") ?? false)
        XCTAssertEqual(report.unscannable.map(\.reason), [.bomb])
    }

    func testATextPartThatQuotesAPDFHeaderStaysText() throws {
        let message = Array("From: a@example.test\r\nSubject: x\r\n\r\nOur files begin with %PDF-1.7, see below.\r\ncard 4111 1111 1111 1111\r\n".utf8)
        let report = try scanner().scan(message)
        XCTAssertTrue(report.unscannable.isEmpty, "\(report.unscannable)")
        XCTAssertEqual(report.findings.map(\.detector), ["credit_card"])
    }

    func testGarbageThatStartsLikeAZipIsUnscannableCorrupt() throws {
        let report = try scanner().scan(message(attaching: Array("PK\u{3}\u{4} but nothing else".utf8), named: "broken.zip"))
        XCTAssertEqual(report.unscannable.map(\.reason), [.corrupt])
        XCTAssertEqual(report.unscannable.first?.path, "broken.zip")
        XCTAssertTrue(try scanner().scan(message(attaching: [], named: "empty.zip")).unscannable.isEmpty, "an empty part is nothing to open")
    }
}
