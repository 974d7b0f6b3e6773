// DLP end to end: a card number in a quoted-printable body and an AWS key in
// a base64 attachment are refused at SMTP time by rules on dlp: profiles,
// the finance team may send card numbers, findings are logged redacted and
// the full values appear in no log line.

import Foundation
import XCTest

final class DLPTests: XCTestCase {
    func testProfilesDecideAtSMTPTimeAndLogOnlyRedactedValues() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules/lists", withIntermediateDirectories: true)
        try "finance@example.test\n".write(toFile: d.root + "/rules/lists/finance.txt", atomically: true, encoding: .utf8)
        try """
            profiles:
              pci: { detectors: [credit_card] }
              secrets: { detectors: [aws_access_key_id, private_key] }
            """.write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try """
            rules:
              - name: block-card-numbers
                when: [ { dlp: pci } ]
                unless: [ { sender: { in_list: finance } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "payment card data" } } ]
              - name: block-secrets
                when: [ { dlp: { profile: secrets, min_count: 1 } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "credentials" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """.write(toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        try d.start()

        let card = "From: app@example.test\r\nSubject: order\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCard 5500 0000 =\r\n0000 0004 exp 12/29\r\n"
        var r = try TestSMTPClient.sendMessage(port: d.port(), from: "app@example.test", to: "x@example.org", message: card)
        XCTAssertEqual(r.code, 550)
        XCTAssertTrue(r.text.contains("payment card data"), r.text)
        r = try TestSMTPClient.sendMessage(port: d.port(), from: "finance@example.test", to: "x@example.org", message: card)
        XCTAssertEqual(r.code, 250, "finance may send card numbers")

        let key = Data("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n".utf8).base64EncodedString()
        let attachment = "From: app@example.test\r\nSubject: config\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"creds.env\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\(key)\r\n--b--\r\n"
        r = try TestSMTPClient.sendMessage(port: d.port(), from: "app@example.test", to: "x@example.org", message: attachment)
        XCTAssertEqual(r.code, 550)
        XCTAssertTrue(r.text.contains("credentials"), r.text)

        XCTAssertEqual(d.waitForOutbox(count: 1).count, 1)
        XCTAssertTrue(d.waitForLog("5500 **** **** 0004"), d.log())
        XCTAssertTrue(d.log().contains("AKIA************MPLE (attachment creds.env"), d.log())
        XCTAssertFalse(d.log().contains("5500 0000 0000 0004"), "a full card number in the log")
        XCTAssertFalse(d.log().contains("AKIAIOSFODNN7EXAMPLE"), "a full key id in the log")
    }
}

extension DLPTests {
    /// Attachment names (zip entries included) and types as rule conditions, with no DLP profile at all.
    func testAttachmentConditions() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try d.writeRules("""
            rules:
              - name: no-executables
                when: [ { attachment: { name: { ends_with: [.exe, .scr, .js] } } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "executable attachments are refused" } } ]
              - name: tag-pdf
                when: [ { attachment: { type: application/pdf } } ]
                then: [ { tag_subject: "[PDF]" } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        try d.start()
        func attach(_ name: String, type: String, _ data: [UInt8]) -> String {
            "From: app@example.test\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nhi\r\n--q\r\nContent-Type: \(type); name=\"\(name)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\(Data(data).base64EncodedString())\r\n--q--\r\n"
        }
        var r = try TestSMTPClient.sendMessage(port: d.port(), message: attach("setup.exe", type: "application/octet-stream", [77, 90, 0]))
        XCTAssertEqual(r.code, 550)
        // The same executable inside a zip (one stored entry, built by hand).
        let name = Array("tools/setup.exe".utf8)
        let payload: [UInt8] = [77, 90, 0]
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
        let local = le32(0x0403_4b50) + le16(20) + [0, 0, 0, 0, 0, 0, 0, 0] + le32(0) + le32(3) + le32(3) + le16(name.count) + le16(0) + name + payload
        let central = le32(0x0201_4b50) + le16(20) + le16(20) + [0, 0, 0, 0, 0, 0, 0, 0] + le32(0) + le32(3) + le32(3) + le16(name.count)
            + [0, 0, 0, 0, 0, 0, 0, 0] + le32(0) + le32(0) + name
        let zip = local + central + le32(0x0605_4b50) + [0, 0, 0, 0] + le16(1) + le16(1) + le32(central.count) + le32(local.count) + le16(0)
        r = try TestSMTPClient.sendMessage(port: d.port(), message: attach("tools.zip", type: "application/zip", zip))
        XCTAssertEqual(r.code, 550, "the zip entry's name counts too")
        r = try TestSMTPClient.sendMessage(port: d.port(), message: attach("report.pdf", type: "application/pdf", [37, 80, 68, 70]))
        XCTAssertEqual(r.code, 250)
        let stored = String(decoding: try XCTUnwrap(d.waitForOutbox(count: 1).first), as: UTF8.self)
        XCTAssertTrue(stored.contains("Subject: [PDF] files"), stored)
    }
}
