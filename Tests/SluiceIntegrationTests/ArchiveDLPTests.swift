// DLP in every archive format (issue 34): a docx holding a card number and a
// private key, inside tar (ustar, pax, GNU, with a file before the document),
// tar.gz, .bz2, .xz, .zst, .lz4, cpio, 7z and a bare .xz stream — made by
// Python's tarfile, GNU cpio, 7-Zip, xz, zstd and lz4 (Tests/interop/
// make_archives.py) — is found by `sluice dlp scan` with its path inside the
// archive and refused by the daemon; the same carriers with a number that
// fails Luhn find no card and are delivered. An encrypted 7z (names or data)
// is `unscannable: encrypted`, a tar bomb `bomb`: never a silent hole.

import Foundation
import XCTest

final class ArchiveDLPTests: XCTestCase {
    static let carriers = [
        "ustar.tar", "pax.tar", "gnu.tar", "report.tar.gz", "report.tar.bz2", "report.tar.xz", "report.tar.zst", "report.tar.lz4",
        "report.cpio", "report.7z", "report.docx.xz",
    ]
    static let secret = "Card 4111 1111 1111 1111 and -----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM"
    static let luhn = "Card 4111 1111 1111 1112 and a plan"

    func makeCorpus() throws -> String {
        try makeInteropFiles(
            "make_archives.py", ["secret", Self.secret, "luhn", Self.luhn], needs: "python-docx, 7z, zstd, lz4, cpio, xz", prefix: "archives",
            for: self)
    }

    func daemon() throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try "profiles:\n  pci: { detectors: [credit_card, private_key] }\n".write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.writeRules("""
            rules:
              - name: refuse-encrypted
                when: [ { dlp: { unscannable: [encrypted] } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "encrypted attachment" } } ]
              - name: refuse-unscannable
                when: [ { dlp: { unscannable: true } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "attachment could not be scanned" } } ]
              - name: refuse-cards
                when: [ { dlp: pci } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "card data" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        return d
    }

    func testEveryArchiveFormatIsOpenedAndNothingPassesUnseen() throws {
        let corpus = try makeCorpus()
        let d = try daemon()
        let files = Self.carriers.flatMap { ["\(corpus)/secret/\($0)", "\(corpus)/luhn/\($0)"] }
        let results = try dlpScan(d, files)
        for carrier in Self.carriers {
            let secret = try XCTUnwrap(results["\(corpus)/secret/\(carrier)"], carrier)
            XCTAssertEqual(secret.unscannable.map(\.0), [], "\(carrier): \(secret.unscannable)")
            for detector in ["credit_card", "private_key"] {
                XCTAssertTrue(
                    secret.findings.contains { $0.0 == detector && $0.1.hasPrefix(carrier + "/") && $0.1.contains("report.docx/word/document.xml") },
                    "\(detector) in \(carrier): \(secret.findings)")
            }
            let luhn = try XCTUnwrap(results["\(corpus)/luhn/\(carrier)"], carrier)
            XCTAssertFalse(luhn.findings.contains { $0.0 == "credit_card" }, "\(carrier): a number failing Luhn is no card: \(luhn.findings)")
            XCTAssertEqual(luhn.unscannable.map(\.0), [], "\(carrier): \(luhn.unscannable)")
        }
        let special: [(file: String, reason: String)] = [
            ("headers-encrypted.7z", "encrypted"), ("data-encrypted.7z", "encrypted"), ("bomb.tar.xz", "bomb"),
        ]
        let unreadable = try dlpScan(d, special.map { "\(corpus)/special/\($0.file)" })
        for s in special {
            let got = unreadable["\(corpus)/special/\(s.file)"]?.unscannable ?? []
            XCTAssertEqual(got.map(\.0), [s.reason], "\(s.file): \(got)")
            XCTAssertTrue(got.first?.1.hasPrefix(s.file) ?? false, "\(s.file): \(got)")
        }

        // The daemon: every carrier of the secret refused, of the Luhn control delivered; encrypted and bombs refused.
        try d.start()
        func send(_ path: String) throws -> (code: Int, text: String, lines: [String]) {
            let name = URL(fileURLWithPath: path).lastPathComponent
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try TestSMTPClient.sendMessage(
                port: d.port(), message: DocumentDLPTests.multipart([DocumentDLPTests.attachment(name, type: "application/octet-stream", data)]))
        }
        for carrier in Self.carriers {
            let refused = try send("\(corpus)/secret/\(carrier)")
            XCTAssertEqual(refused.code, 550, "\(carrier): \(refused.text)")
            XCTAssertTrue(refused.text.contains("card data"), "\(carrier): \(refused.text)")
            XCTAssertEqual(try send("\(corpus)/luhn/\(carrier)").code, 250, carrier)
        }
        for s in special {
            let r = try send("\(corpus)/special/\(s.file)")
            XCTAssertEqual(r.code, 550, s.file)
            XCTAssertTrue(r.text.contains(s.reason == "encrypted" ? "encrypted attachment" : "could not be scanned"), "\(s.file): \(r.text)")
        }
        XCTAssertEqual(d.waitForOutbox(count: Self.carriers.count).count, Self.carriers.count)
        XCTAssertFalse(d.log().contains("4111 1111 1111 1111"), "a full card number in the log")
    }
}
