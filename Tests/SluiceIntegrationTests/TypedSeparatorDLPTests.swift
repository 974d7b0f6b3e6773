// Separators and digits as people type them (issue 34), in every carrier:
// a card number written with no-break spaces (what word processors put
// between digit groups), en dashes, thin spaces or full-width digits, and
// an SSN with non-breaking hyphens, in the body, HTML, text and binary
// attachments, docx, xlsx, pptx, odt, PDF, zip and gzip — made by the
// libraries that write them — is found by `sluice dlp scan` with its path and refused by
// the daemon, quoted-printable and all.

import Foundation
import XCTest

final class TypedSeparatorDLPTests: XCTestCase {
    static let lines: [String: (line: String, detector: String)] = [
        "nbsp": ("Card 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111 exp 12/29", "credit_card"),
        "en-dash": ("Card 4111\u{2013}1111\u{2013}1111\u{2013}1111 exp 12/29", "credit_card"),
        "thin-space": ("Card 4111\u{2009}1111\u{2009}1111\u{2009}1111 exp 12/29", "credit_card"),
        "full-width": ("Card \u{FF14}\u{FF11}\u{FF11}\u{FF11} \u{FF11}\u{FF11}\u{FF11}\u{FF11} \u{FF11}\u{FF11}\u{FF11}\u{FF11} \u{FF11}\u{FF11}\u{FF11}\u{FF11}", "credit_card"),
        "nb-hyphen": ("Employee SSN 536\u{2011}22\u{2011}1234 on file", "us_ssn"),
    ]

    /// The PDF's standard fonts (WinAnsi) have a no-break space and an en dash, not thin spaces, full-width digits
    /// or the non-breaking hyphen: reportlab cannot write those, so the PDF carries only the first two.
    static func carries(_ file: String, _ name: String) -> Bool {
        file != "card.pdf" || name == "nbsp" || name == "en-dash"
    }

    func testTypedSeparatorsAreFoundInEveryCarrierAndRefused() throws {
        let corpus = try makeDocuments(Self.lines.mapValues(\.line), for: self)
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try "profiles:\n  pii: { detectors: [credit_card, us_ssn] }\n".write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.writeRules("""
            rules:
              - name: refuse
                when: [ { dlp: pii } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "sensitive data" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        var expected: [String: (detector: String, path: String)] = [:]
        var sends: [(String, String)] = []
        for (name, (line, detector)) in Self.lines {
            for (file, path) in DocumentDLPTests.documents where Self.carries(file, name) {
                expected["\(corpus)/\(name)/\(file)"] = (detector, path)
            }
            for (i, m) in try DocumentDLPTests.messages(line, documents: "\(corpus)/\(name)").enumerated()
            where Self.carries(m.carrier, name) {
                let file = "\(corpus)/\(name)/message-\(i).eml"
                try m.message.write(toFile: file, atomically: true, encoding: .utf8)
                expected[file] = (detector, m.path)
                sends.append(("\(name) in \(m.carrier)", m.message))
            }
            // Quoted-printable, as a mail client sends a no-break space (=C2=A0).
            let qp = line.utf8.map { $0 < 0x80 ? String(UnicodeScalar($0)) : String(format: "=%02X", $0) }.joined()
            sends.append((
                "\(name) quoted-printable",
                "Subject: figures\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\(qp)\r\n"
            ))
        }
        let results = try dlpScan(d, expected.keys.sorted())
        var missed: [String] = []
        for (file, want) in expected.sorted(by: { $0.key < $1.key }) {
            let found = results[file]?.findings ?? []
            if !found.contains(where: { $0.0 == want.detector && $0.1.hasPrefix(want.path) }) {
                missed.append("\(file.dropFirst(corpus.count + 1)): \(want.detector) at \(want.path), found \(found)")
            }
        }
        XCTAssertEqual(missed, [], "\(missed.count) of \(expected.count) missed")

        try d.start()
        for (what, message) in sends {
            let r = try TestSMTPClient.sendMessage(port: d.port(), message: message)
            XCTAssertEqual(r.code, 550, "\(what): \(r.text)")
        }
        XCTAssertFalse(d.log().contains("4111\u{00A0}1111\u{00A0}1111\u{00A0}1111"), "a full card number in the log")
    }
}
