// DLP in documents (issue 19): every predefined detector in every carrier a
// message can hide it in — body, HTML, text and binary attachments, zip,
// docx (one run and split across runs), xlsx, pptx, odt, a Flate-compressed
// PDF, gzip, a forwarded message and an encoded Subject — found by
// `sluice dlp scan` with the right path and refused by the daemon on a rule
// that names the profile; the same documents without the value (and a card
// number that fails Luhn) find nothing. The documents are made in the test by
// python-docx, openpyxl, python-pptx, odfpy, reportlab and Info-ZIP's zip
// (Tests/interop/make_documents.py). What cannot be read (zip bombs, a
// 42.zip-style nest, encrypted zip and PDF, a corrupt PDF, a truncated docx)
// is a verdict with its reason, and the daemon's memory stays bounded.

import Foundation
import XCTest

final class DocumentDLPTests: XCTestCase {
    static let detectors = [
        "credit_card", "us_ssn", "iban", "aws_access_key_id", "aws_secret_access_key", "private_key", "jwt", "email_address", "phone_number",
    ]

    static var jwt: String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
        }
        return "\(b64(#"{"alg":"HS256","typ":"JWT"}"#)).\(b64(#"{"sub":"1234567890","name":"Jane"}"#)).SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    }

    /// One line of text per detector, and two controls: nothing at all, and a card number that fails Luhn.
    static var lines: [String: String] {
        [
            "credit_card": "Card 4111 1111 1111 1111 exp 12/29",
            "us_ssn": "Employee SSN 536-22-1234 on file",
            "iban": "Pay to IBAN DE89 3704 0044 0532 0130 00 today",
            "aws_access_key_id": "Access key AKIAIOSFODNN7EXAMPLE for the build",
            "aws_secret_access_key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "private_key": "-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM",
            "jwt": "Bearer \(jwt)",
            "email_address": "Write to jane.doe@example.com about it",
            "phone_number": "Call me on (415) 555-2671 tomorrow",
            "control": "Nothing to see here, just the quarterly plan",
            "luhn": "Card 4111 1111 1111 1112 exp 12/29",
        ]
    }

    /// The documents of make_documents.py and the path a finding in each must name.
    static let documents: [(file: String, path: String)] = [
        ("report.docx", "report.docx/word/document.xml"), ("split.docx", "split.docx/word/document.xml"),
        ("cards.xlsx", "cards.xlsx/xl/"), ("slides.pptx", "slides.pptx/ppt/slides/slide1.xml"), ("notes.odt", "notes.odt/content.xml"),
        ("card.pdf", "card.pdf/page 1"), ("cards.zip", "cards.zip/q3/cards.txt"), ("cards.txt.gz", "cards.txt.gz/cards.txt"),
        ("cards.bin", "cards.bin"),
    ]

    static let profiles = """
        profiles:
          all: { detectors: [\(detectors.joined(separator: ", "))] }
        """

    /// Makes the corpus with the document libraries; a missing library fails the test (`make test` installs them).
    func makeCorpus() throws -> String { try makeDocuments(Self.lines, for: self) }

    static func multipart(_ parts: [String], subject: String = "figures") -> String {
        var m = "Subject: \(subject)\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=b=\"\r\n\r\n"
        m += "--=b=\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        for p in parts { m += "--=b=\r\n" + p }
        return m + "--=b=--\r\n"
    }

    static func attachment(_ name: String, type: String, _ data: Data) -> String {
        "Content-Type: \(type); name=\"\(name)\"\r\nContent-Disposition: attachment; filename=\"\(name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]) + "\r\n"
    }

    /// Every carrier of one line as a message: (carrier, message, where the finding must be).
    static func messages(_ line: String, documents dir: String) throws -> [(carrier: String, message: String, path: String)] {
        // No address header fields: email_address would find them in every message, controls included.
        let plain = "Subject: figures\r\n\r\nHello,\r\n\(line)\r\nBye\r\n"
        var out: [(String, String, String)] = [
            ("body", plain, "body"),
            ("html", "Subject: figures\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello,</p><p><span>\(line.replacingOccurrences(of: "<", with: "&lt;"))</span></p></body></html>\r\n", "body"),
            ("text attachment", multipart([attachment("notes.txt", type: "text/plain", Data("Notes\n\(line)\n".utf8))]), "notes.txt"),
            ("octet-stream attachment", multipart([attachment("id_rsa", type: "application/octet-stream", Data("\(line)\n".utf8))]), "id_rsa"),
            ("nested message", multipart(["Content-Type: message/rfc822\r\n\r\n" + plain]), ""),
            ("RFC 2047 header", "Subject: =?utf-8?B?\(Data(line.utf8).base64EncodedString())?=\r\n\r\nsee subject\r\n", "headers"),
        ]
        for (file, path) in documents {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(file)"))
            // Declared as octet-stream: the bytes decide what the part is.
            out.append((file, multipart([attachment(file, type: "application/octet-stream", data)]), path))
        }
        return out
    }

    /// `sluice dlp scan --json` over files; every finding of a predefined detector has a snippet and names the profile.
    func scan(_ d: DaemonProcess, _ files: [String]) throws -> [String: DLPScanResult] {
        try dlpScan(d, files) { finding in
            guard Self.detectors.contains(finding["detector"] as? String ?? "") else { return }
            XCTAssertNotNil(finding["snippet"] as? String)
            XCTAssertEqual(finding["profiles"] as? [String], ["all"])
        }
    }

    /// A daemon (not started) with the "all" profile and these rules.
    func daemon(rules: String) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try Self.profiles.write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.writeRules(rules)
        return d
    }

    func testEveryDetectorInEveryCarrierIsFoundByDLPScanAndTheDaemon() throws {
        let corpus = try makeCorpus()
        let d = try daemon(rules: """
            rules:
              - name: refuse-sensitive
                when: [ { dlp: all } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "sensitive data" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)

        // The raw documents, and each carrier as a message, through `sluice dlp scan`.
        var expected: [String: (detector: String?, path: String, carrier: String)] = [:]
        var sends: [(String, String, String?)] = []
        for (name, line) in Self.lines {
            let detector: String? = Self.detectors.contains(name) ? name : nil
            for (file, path) in Self.documents {
                expected["\(corpus)/\(name)/\(file)"] = (detector, path, "\(file) (raw)")
            }
            for (i, m) in try Self.messages(line, documents: "\(corpus)/\(name)").enumerated() {
                let file = "\(corpus)/\(name)/message-\(i).eml"
                try m.message.write(toFile: file, atomically: true, encoding: .utf8)
                expected[file] = (detector, m.path, m.carrier)
                sends.append((m.carrier, m.message, name))
            }
        }
        let results = try scan(d, expected.keys.sorted())
        XCTAssertEqual(results.count, expected.count)
        var missed: [String] = []
        for (file, want) in expected.sorted(by: { $0.key < $1.key }) {
            let found = results[file]?.findings ?? []
            XCTAssertTrue(results[file]?.unscannable.isEmpty ?? false, "\(file): \(results[file]?.unscannable ?? [])")
            if let detector = want.detector {
                if !found.contains(where: { $0.0 == detector && $0.1.hasPrefix(want.path) }) {
                    missed.append("\(detector) in \(want.carrier) at \(want.path): found \(found)")
                }
            } else if file.contains("/luhn/") {
                XCTAssertFalse(found.contains { $0.0 == "credit_card" }, "\(file): a number failing Luhn is no card: \(found)")
            } else {
                XCTAssertTrue(found.isEmpty, "\(file) (control): \(found)")
            }
        }
        XCTAssertEqual(missed, [], "\(missed.count) of \(expected.count) missed")

        // The daemon decides the same way: refused when the value is there, accepted when not.
        try d.start()
        var accepted = 0
        for (carrier, message, name) in sends {
            let r = try TestSMTPClient.sendMessage(port: d.port(), message: message)
            if Self.detectors.contains(name!) {
                XCTAssertEqual(r.code, 550, "\(name!) in \(carrier): \(r.text)")
            } else {
                XCTAssertEqual(r.code, 250, "\(name!) control in \(carrier): \(r.text)")
                accepted += 1
            }
        }
        XCTAssertEqual(d.waitForOutbox(count: accepted).count, accepted)
        XCTAssertFalse(d.log().contains("4111 1111 1111 1111"), "a full card number in the log")
    }

    func testWhatCannotBeReadIsAVerdictWithItsReasonAndMemoryStaysBounded() throws {
        let corpus = try makeCorpus()
        let special = corpus + "/special"
        let d = try daemon(rules: """
            rules:
              - name: refuse-encrypted
                when: [ { dlp: { unscannable: [encrypted] } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "encrypted attachment" } } ]
              - name: refuse-unscannable
                when: [ { dlp: { unscannable: true } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "attachment could not be scanned" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        let cases: [(file: String, reason: String, path: String)] = [
            ("bomb.zip", "bomb", "bomb.zip/zeros.txt"), ("42.zip", "bomb", "42.zip/3-0.zip/2-0.zip/1-0.zip/0-0.zip/0.txt"),
            ("zip64-bomb.zip", "bomb", "zip64-bomb.zip/ten-gigabytes.bin"),
            ("encrypted.zip", "encrypted", "encrypted.zip/secret.txt"), ("encrypted.pdf", "encrypted", "encrypted.pdf"),
            ("corrupt.pdf", "corrupt", "corrupt.pdf"), ("truncated.docx", "corrupt", "truncated.docx"),
        ]
        let results = try scan(d, cases.map { "\(special)/\($0.file)" })
        for c in cases {
            let got = results["\(special)/\(c.file)"]?.unscannable ?? []
            XCTAssertEqual(got.map(\.0), [c.reason], "\(c.file): \(got)")
            XCTAssertEqual(got.first?.1, c.path, c.file)
        }

        try d.start()
        for c in cases {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(special)/\(c.file)"))
            let r = try TestSMTPClient.sendMessage(port: d.port(), message: Self.multipart([Self.attachment(c.file, type: "application/octet-stream", data)]))
            XCTAssertEqual(r.code, 550, c.file)
            XCTAssertTrue(r.text.contains(c.reason == "encrypted" ? "encrypted attachment" : "could not be scanned"), "\(c.file): \(r.text)")
        }
        XCTAssertTrue(d.waitForLog("\"\(cases[0].reason): \(cases[0].path)"), d.log())
        // 42.zip alone would expand to terabytes, zip64-bomb.zip to 10 GiB, bomb.zip to 100 MB: none is unpacked
        // past its ratio limit.
        let rss = d.rssKiB()
        print("daemon RSS after the unscannable documents: \(rss / 1024) MiB")
        XCTAssertLessThan(rss, 400 * 1024, "RSS \(rss / 1024) MiB")
        // A plain message still goes through.
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), message: "Subject: hi\r\n\r\nhello\r\n").code, 250)
    }
}
