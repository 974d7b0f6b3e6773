// IndexText from the inspect walk: the DLP scan that also collects the
// archive's text gives the index exactly what a walk of its own would (body,
// HTML as text, text attachments, zip members, their names), and the same
// findings and counts as a scan that collects nothing; PDF text and the
// message's header fields stay out, and the text stops at 256 KiB.

import Foundation
import XCTest

@testable import SluiceDLP

final class IndexTextTests: XCTestCase {
    func scanner(_ yaml: String) throws -> DLPScanner {
        try DLPScanner(book: try DLPBook.parse(yaml: yaml, file: "/r/dlp.yaml"))
    }

    /// Body, an HTML alternative, a CSV attachment and a zip holding a text file (stored, readable as is).
    func message() throws -> [UInt8] {
        let zip = try ZipScanTests.makeZip("""
            with zipfile.ZipFile(out, 'w') as z:
                z.writestr('q3/notes.txt', 'zebra quarterly notes\\ncard 4111 1111 1111 1111\\n')
            """)
        let b64 = Data(zip).base64EncodedString(options: .lineLength76Characters)
        return Array("""
            From: a@example.test\r
            Subject: ledger\r
            Content-Type: multipart/mixed; boundary=z\r
            \r
            --z\r
            Content-Type: multipart/alternative; boundary=y\r
            \r
            --y\r
            Content-Type: text/plain\r
            \r
            falcon budget, card 5500 0000 0000 0004\r
            --y\r
            Content-Type: text/html\r
            \r
            <p>falcon <b>budget</b></p>\r
            --y--\r
            --z\r
            Content-Type: text/csv; name="ledger.csv"\r
            Content-Disposition: attachment; filename="ledger.csv"\r
            \r
            name,card\r
            Jane,4111 1111 1111 1111\r
            --z\r
            Content-Type: application/zip; name="files.zip"\r
            Content-Disposition: attachment; filename="files.zip"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(b64)\r
            --z--\r

            """.utf8)
    }

    func scanFile(_ scanner: DLPScanner, _ raw: [UInt8], indexText: Bool) throws -> DLPReport {
        let path = NSTemporaryDirectory() + "index-\(UUID().uuidString).eml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(raw).write(to: URL(fileURLWithPath: path))
        return try scanner.scan(path: path, length: raw.count, indexText: indexText)
    }

    func testOneWalkGivesTheIndexWhatAWalkOfItsOwnReads() throws {
        let raw = try message()
        let alone = IndexText.read(raw)
        let text = String(decoding: alone.text, as: UTF8.self)
        for word in ["falcon budget", "Jane,4111", "zebra quarterly"] { XCTAssertTrue(text.contains(word), "\(word) in \(text)") }
        XCTAssertFalse(text.contains("Subject: ledger"), "header fields are columns of their own")
        XCTAssertEqual(alone.attachments, ["ledger.csv", "files.zip", "files.zip/q3/notes.txt"])

        let s = try scanner("profiles:\n  pci: { detectors: [credit_card] }\n")
        let shared = try scanFile(s, raw, indexText: true)
        let plain = try scanFile(s, raw, indexText: false)
        XCTAssertEqual(shared.indexText, alone)
        XCTAssertNil(plain.indexText)
        XCTAssertEqual(shared.findings.map { "\($0.part) \($0.offset)" }, plain.findings.map { "\($0.part) \($0.offset)" })
        XCTAssertEqual(shared.counts, ["pci": 3])
        XCTAssertEqual(plain.counts, ["pci": 3])
        XCTAssertFalse(shared.truncated)

        // No detectors (rules read attachment names only): the structure walk decodes the index's text as well.
        let names = try scanFile(try scanner("profiles: {}\n"), raw, indexText: true)
        XCTAssertEqual(names.indexText, alone)
        XCTAssertFalse(names.truncated)
    }

    func testProfilesThatReadTheBodyOnlyLeaveTheIndexToAWalkOfItsOwn() throws {
        let raw = try message()
        let s = try scanner("profiles:\n  pci: { detectors: [credit_card], scan_attachments: false }\n")
        let report = try scanFile(s, raw, indexText: true)
        XCTAssertNil(report.indexText, "attachments are not decoded for these profiles")
        XCTAssertEqual(report.counts, ["pci": 1])
    }

    func testAProfileBudgetBelowTheIndexesIsKeptAndSaidPartial() throws {
        let body = (0..<2000).map { "line \($0) falcon\r\n" }.joined() + "card 4111 1111 1111 1111\r\n"
        let raw = Array("Subject: long\r\n\r\n\(body)".utf8)
        let s = try scanner("profiles:\n  pci: { detectors: [credit_card], max_bytes: 4096 }\n")
        let report = try scanFile(s, raw, indexText: true)
        XCTAssertEqual(report.counts, ["pci": 0], "the card is past the profile's 4096 bytes")
        XCTAssertTrue(report.truncated)
        XCTAssertEqual(report.indexText, IndexText.read(raw), "the index still takes its own share")
        XCTAssertTrue(String(decoding: report.indexText?.text ?? [], as: UTF8.self).contains("4111 1111 1111 1111"))
    }

    func testPDFTextHeadersAndTextPastTheLimitStayOut() {
        var c = IndexText.Collector()
        c.text(Array("Subject: x\n".utf8), part: MIMEPart(index: -1, contentType: "text/rfc822-headers", filename: nil, label: "headers"))
        var page = MIMEPart(index: 2, contentType: "application/octet-stream", filename: "r.pdf/page 1", label: "attachment r.pdf/page 1")
        page.derived = true
        page.fromPDF = true
        c.text(Array("pdf words".utf8), part: page)
        let body = MIMEPart(index: 0, contentType: "text/plain", filename: nil, label: "body")
        c.text(Array("body words".utf8), part: body)
        XCTAssertEqual(String(decoding: c.text, as: UTF8.self), "body words\n")
        c.text([UInt8](repeating: 65, count: IndexText.limit), part: body)
        XCTAssertEqual(c.text.count, IndexText.limit)
        XCTAssertTrue(c.isFull)
    }
}
