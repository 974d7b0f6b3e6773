// Text in images (issue 34): a card number rendered into a PNG and a JPEG
// by Pillow, the same PNG inside a docx (python-docx) and as the only content
// of a PDF page with no text layer (reportlab) is found by a profile with
// `ocr: true` — by `sluice dlp scan` with its path and by the daemon, which
// refuses it — and is not looked at without it; a PNG whose header declares
// 50,000 x 50,000 pixels is `unscannable: limits`, never decoded; `dlp scan
// --json` says per part how it was read, with OCR or not, and how long.

import Foundation
import XCTest

final class OCRTests: XCTestCase {
    static let line = "Card 4111 1111 1111 1111 exp 12/29"

    func makeImages() throws -> String {
        try makeInteropFiles("make_images.py", [Self.line], needs: "Pillow, python-docx, reportlab, DejaVu fonts", prefix: "images", for: self)
    }

    func daemon(ocr: Bool) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try "profiles:\n  pci: { detectors: [credit_card], ocr: \(ocr) }\n".write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.writeRules("""
            rules:
              - name: refuse-cards
                when: [ { dlp: pci } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "card data" } } ]
              - name: refuse-unread
                when: [ { dlp: { unscannable: [limits] } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "image too large to scan" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        return d
    }

    static let carriers: [(file: String, type: String, path: String)] = [
        ("card.png", "image/png", "card.png (image)"), ("card.jpg", "image/jpeg", "card.jpg (image)"),
        ("card.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "card.docx/word/media/image1.png (image)"),
        ("scan.pdf", "application/pdf", "scan.pdf/page 1 (image)"),
    ]

    func message(_ dir: String, _ file: String, type: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(file)"))
        return DocumentDLPTests.multipart([DocumentDLPTests.attachment(file, type: type, data)], subject: "screenshot")
    }

    func testACardNumberInAnImageIsReadWithOCROnlyWhenAProfileAsks() throws {
        let images = try makeImages()
        let withOCR = try daemon(ocr: true)
        let files = (Self.carriers.map(\.file) + ["plain.png", "huge.png"]).map { "\(images)/\($0)" }
        let found = try dlpScan(withOCR, files)
        for c in Self.carriers {
            XCTAssertTrue(found["\(images)/\(c.file)"]?.findings.contains { $0 == ("credit_card", c.path) } ?? false, "\(c.file): \(found["\(images)/\(c.file)"].map { "\($0)" } ?? "")")
        }
        XCTAssertEqual(found["\(images)/plain.png"]?.findings.count, 0)
        let huge = found["\(images)/huge.png"]
        XCTAssertEqual(huge?.unscannable.map(\.0), ["limits"], "\(huge.map { "\($0)" } ?? "")")

        let without = try daemon(ocr: false)
        let unseen = try dlpScan(without, files)
        for (file, result) in unseen {
            XCTAssertFalse(result.findings.contains { $0.0 == "credit_card" }, "\(file) read without ocr: \(result.findings)")
            XCTAssertTrue(result.unscannable.isEmpty, "\(file): \(result.unscannable)")
        }

        // `dlp scan --json` says how each part was read, whether OCR was used, and how long it took.
        for (d, how) in [(withOCR, "png (OCR)"), (without, "png (printable runs)")] {
            let (status, out, err) = try d.cli(["dlp", "scan", "--json", "\(images)/card.docx"])
            XCTAssertEqual(status, 0, err)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            let parts = try XCTUnwrap((json["files"] as? [[String: Any]])?.first?["parts"] as? [[String: Any]])
            let image = try XCTUnwrap(parts.first { $0["path"] as? String == "card.docx/word/media/image1.png" }, "\(parts)")
            XCTAssertEqual(image["read_as"] as? String, how)
            XCTAssertEqual(image["ocr"] as? Bool, how.hasSuffix("(OCR)"))
            XCTAssertNotNil(image["ms"] as? Double)
            XCTAssertEqual(parts.first?["read_as"] as? String, "zip")
        }

        // Text read by OCR counts only for the profiles that asked for it.
        let mixed = try daemon(ocr: false)
        try "profiles:\n  seen: { detectors: [credit_card], ocr: true }\n  blind: { detectors: [credit_card] }\n"
            .write(toFile: mixed.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        let (status, out, err) = try mixed.cli(["dlp", "scan", "--json", "\(images)/card.png"])
        XCTAssertEqual(status, 0, err)
        let counts = ((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["files"] as? [[String: Any]])?.first?["profiles"]
        XCTAssertEqual(counts as? [String: Int], ["seen": 1, "blind": 0])

        try withOCR.start()
        for c in Self.carriers {
            let r = try TestSMTPClient.sendMessage(port: withOCR.port(), message: try message(images, c.file, type: c.type))
            XCTAssertEqual(r.code, 550, "\(c.file) with ocr: \(r.text)")
        }
        var r = try TestSMTPClient.sendMessage(port: withOCR.port(), message: try message(images, "huge.png", type: "image/png"))
        XCTAssertEqual(r.code, 550, "huge.png: \(r.text)")
        XCTAssertTrue(r.text.contains("too large to scan"), r.text)
        r = try TestSMTPClient.sendMessage(port: withOCR.port(), message: try message(images, "plain.png", type: "image/png"))
        XCTAssertEqual(r.code, 250, "plain.png: \(r.text)")

        try without.start()
        for c in Self.carriers {
            r = try TestSMTPClient.sendMessage(port: without.port(), message: try message(images, c.file, type: c.type))
            XCTAssertEqual(r.code, 250, "\(c.file) without ocr: \(r.text)")
        }
        XCTAssertEqual(without.waitForOutbox(count: Self.carriers.count).count, Self.carriers.count)
    }
}
