// The Sender Rewriting Scheme end to end (issue 28): a Sluice forwards mail
// for a local recipient to a next hop (a second Sluice, whose log shows the
// envelope) with `rewrite_sender: srs`; the next hop sees an SRS0 address of
// the forwarder's SRS domain as MAIL FROM. A bounce to that address, from a
// client the forwarder does not trust, is accepted and goes back to the
// original sender; a forged one, or any other address of the SRS domain,
// gets 550 5.1.1; the SRS domain opens no relay.

import Foundation
import XCTest

final class SRSTests: XCTestCase {
    func testForwardedMailIsRewrittenAndItsBouncesGoBack() throws {
        let next = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, verify: [] }
            """)
        try next.start()
        let key = NSTemporaryDirectory() + "sluice-srs-\(UUID().uuidString.prefix(8)).key"
        try "0123456789abcdef0123456789abcdef\n".write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        defer { try? FileManager.default.removeItem(atPath: key) }
        let d = try DaemonProcess(yaml: """
            local_domains: [example.org]
            networks: { trusted: [192.0.2.0/24] }
            srs: { domain: fwd.example.test, secret_file: "\(key)", max_age: 21d }
            upstreams:
              nexthop: { hosts: ["127.0.0.1:\(next.port())"], tls: none }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, rules: default, verify: [] }
            """)
        try d.writeRules("""
            rules:
              - name: forward
                when: [ { recipient: { domain: [example.org] } } ]
                then: [ { rewrite_sender: srs }, { relay: nexthop }, stop ]
              - name: bounces
                then: [ { relay: nexthop } ]
            """)
        try d.start()

        // 1. Forwarded: the next hop sees the SRS address as MAIL FROM.
        XCTAssertEqual(
            try TestSMTPClient.sendMessage(
                port: d.port("mx"), from: "orig@sender.example", to: "user@example.org",
                message: "From: orig@sender.example\r\nSubject: forwarded\r\n\r\nhello\r\n").code, 250)
        var srsAddress = ""
        XCTAssertTrue(waitUntil {
            guard let m = next.log().range(of: #""from":"<(SRS0=[^>"]+=sender\.example=orig@fwd\.example\.test)>""#, options: .regularExpression)
            else { return false }
            srsAddress = String(next.log()[m].dropFirst(9).dropLast(2))
            return true
        }, next.log() + d.log())
        XCTAssertTrue(srsAddress.hasPrefix("SRS0="), srsAddress)

        // 2. A bounce to it, from outside: accepted, and back to the original sender.
        let c = try TestSMTPClient(port: d.port("mx"))
        _ = try c.reply()
        _ = try c.command("EHLO mx.next.example")
        XCTAssertEqual(try c.command("MAIL FROM:<>").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<\(srsAddress)>").code, 250, d.log())
        // 3. Forged (one character of the hash changed), or not an SRS address at all: 550 5.1.1.
        var forged = Array(srsAddress)
        forged[5] = forged[5] == "A" ? "B" : "A"
        var r = try c.command("RCPT TO:<\(String(forged))>")
        XCTAssertEqual(r.code, 550, r.text)
        XCTAssertTrue(r.text.contains("5.1.1") && r.text.contains("Invalid SRS address"), r.text)
        r = try c.command("RCPT TO:<postmaster@fwd.example.test>")
        XCTAssertEqual(r.code, 550, r.text)
        // The SRS domain opens no relay.
        r = try c.command("RCPT TO:<someone@elsewhere.example>")
        XCTAssertEqual(r.code, 550, r.text)
        XCTAssertTrue(r.text.contains("Relay access denied"), r.text)
        XCTAssertEqual(try c.command("DATA").code, 354)
        try c.write("From: MAILER-DAEMON@mx.next.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nbounced\r\n.\r\n")
        XCTAssertEqual(try c.reply().code, 250)
        XCTAssertTrue(waitUntil { next.log().contains(#""from":"<>""#) && next.log().contains(#""recipients":"orig@sender.example""#) }, next.log() + d.log())
        XCTAssertTrue(d.log().contains("SRS address reversed"), d.log())
        XCTAssertTrue(d.log().contains("an SRS address whose hash does not match"), d.log())
    }

    func testRewritingNeedsTheSection() throws {
        let d = try DaemonProcess(yaml: "listeners:\n  - { name: mx, address: \"127.0.0.1:0\", tls: none, rules: default }\n")
        try d.writeRules("rules:\n  - name: f\n    then: [ { rewrite_sender: srs }, { store: var/outbox } ]\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("default.yaml:3:") && err.contains("rewrite_sender: srs needs srs:"), err)
    }
}
