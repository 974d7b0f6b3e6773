// LMTP delivery (issue 28, RFC 2033) into a real Dovecot started by the test
// (Debian's dovecot-lmtpd, Maildir users, its LMTP socket in a temp dir): a
// two-recipient message lands in both Maildirs as Sluice queued it (plus
// Dovecot's own Return-Path and Delivered-To); an unknown user gets a DSN
// while the other recipient is delivered once; with Dovecot stopped the
// message is deferred, and delivered once it is back.

import Foundation
import SluiceTestSupport
import XCTest

final class LMTPTests: XCTestCase {
    func daemon(_ dovecot: DovecotLMTPInstance) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            local_domains: [example.org]
            lmtp:
              mailstore: { address: "unix:\(dovecot.socket)" }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default, verify: [] }
            """)
        try d.writeRules("rules:\n  - name: mailboxes\n    then: [ { deliver_lmtp: mailstore } ]\n")
        return d
    }

    /// A message's text without the headers Dovecot prepends, with CRLF as Sluice sent it.
    func asDelivered(_ data: Data) -> String {
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.components(separatedBy: "\n").drop { $0.hasPrefix("Return-Path:") || $0.hasPrefix("Delivered-To:") }
        return lines.joined(separator: "\r\n")
    }

    func testTwoMailboxesAnUnknownUserAndAStoreThatGoesAway() throws {
        let dovecot: DovecotLMTPInstance
        do { dovecot = try DovecotLMTPInstance(users: ["alice", "bob"]) } catch let e as DovecotUnavailable { throw XCTSkip(e.description) }
        let d = try daemon(dovecot)
        try d.start()

        // 1. Two recipients, one transaction: both Maildirs hold the message Sluice queued, byte for byte.
        let body = "Subject: to both\r\nMessage-ID: <lmtp-1@example.org>\r\n\r\nhello mailboxes\r\n.leading dot\r\n"
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        try c.beginTransaction(from: "sender@example.net", to: ["alice@example.org", "bob@example.org"])
        try c.write(body.replacingOccurrences(of: "\r\n.leading", with: "\r\n..leading") + ".\r\n")
        XCTAssertEqual(try c.reply().code, 250)
        XCTAssertTrue(waitUntil { dovecot.messages(of: "alice").count == 1 && dovecot.messages(of: "bob").count == 1 }, d.log() + dovecot.log)
        let alice = asDelivered(dovecot.messages(of: "alice")[0])
        let bob = asDelivered(dovecot.messages(of: "bob")[0])  // each holds one message so far
        XCTAssertEqual(alice, bob)
        XCTAssertTrue(alice.hasPrefix("Received: from "), alice)
        XCTAssertTrue(alice.hasSuffix(body), alice)
        XCTAssertTrue(String(decoding: dovecot.messages(of: "alice")[0], as: UTF8.self).hasPrefix("Return-Path: <sender@example.net>"))

        // 2. An unknown user: bob (the sender) gets a DSN naming carol and Dovecot's reply; alice gets the message once.
        let r = try TestSMTPClient.sendMessage(
            port: d.port(), from: "bob@example.org", to: "alice@example.org", message: "Subject: two\r\nMessage-ID: <lmtp-2@example.org>\r\n\r\nx\r\n")
        XCTAssertEqual(r.code, 250)
        let c2 = try TestSMTPClient(port: d.port())
        _ = try c2.reply()
        try c2.beginTransaction(from: "bob@example.org", to: ["alice@example.org", "carol@example.org"])
        try c2.write("Subject: three\r\nMessage-ID: <lmtp-3@example.org>\r\n\r\nfor alice and carol\r\n.\r\n")
        XCTAssertEqual(try c2.reply().code, 250)
        XCTAssertTrue(waitUntil { dovecot.messages(of: "bob").count == 2 }, d.log() + dovecot.log)
        // (Maildir file names do not sort by arrival within a second: find the DSN by its content.)
        let dsn = dovecot.messages(of: "bob").map { String(decoding: $0, as: UTF8.self) }.first { $0.contains("Final-Recipient:") } ?? ""
        XCTAssertTrue(dsn.contains("Final-Recipient: rfc822; carol@example.org"), dsn)
        XCTAssertTrue(dsn.contains("Status: 5.1.1"), dsn)
        XCTAssertTrue(dsn.contains("User doesn't exist"), dsn)
        XCTAssertTrue(waitUntil { dovecot.messages(of: "alice").count == 3 }, d.log())
        XCTAssertEqual(dovecot.messages(of: "alice").filter { String(decoding: $0, as: UTF8.self).contains("<lmtp-3@example.org>") }.count, 1)

        // 3. Dovecot away: deferred, nothing lost; back: delivered once, by the queue's retry.
        dovecot.stop()
        XCTAssertEqual(
            try TestSMTPClient.sendMessage(port: d.port(), from: "bob@example.org", to: "alice@example.org",
                message: "Subject: later\r\nMessage-ID: <lmtp-4@example.org>\r\n\r\nwhile away\r\n").code, 250)
        XCTAssertTrue(waitUntil { d.log().contains("\"event\":\"deferred\"") }, d.log())
        XCTAssertEqual(dovecot.messages(of: "alice").count, 3)
        try dovecot.start()
        XCTAssertEqual(try d.cli(["queue", "retry", "--all"]).0, 0)
        XCTAssertTrue(waitUntil { dovecot.messages(of: "alice").count == 4 }, d.log() + dovecot.log)
        XCTAssertEqual(dovecot.messages(of: "alice").filter { String(decoding: $0, as: UTF8.self).contains("<lmtp-4@example.org>") }.count, 1)
        XCTAssertEqual(d.stop(), 0)
    }

    func testAnUnknownServerFailsToLoad() throws {
        let d = try DaemonProcess(yaml: """
            lmtp:
              mailstore: { address: "unix:/run/dovecot/lmtp" }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try d.writeRules("rules:\n  - name: m\n    then: [ { deliver_lmtp: cyrus } ]\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("default.yaml:3:") && err.contains("LMTP server 'cyrus' is not defined under lmtp: in the config (known: mailstore)"), err)
    }
}
