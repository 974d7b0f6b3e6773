// Inbound message authentication end to end: a client (its address given by
// the PROXY protocol) sends a message signed by dkimpy; Sluice checks SPF,
// DKIM and DMARC against the fixture DNS server, writes one
// Authentication-Results header (a forged one with our authserv-id is
// removed), and a rule refuses mail whose DMARC policy says reject.

import Foundation
import SluiceTestSupport
import XCTest

final class MailAuthTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop").standardizedFileURL.path

    func send(_ port: Int, clientIP: String, from: String, message: String) throws -> Int {
        let c = try TestSMTPClient(port: port)
        try c.write("PROXY TCP4 \(clientIP) 127.0.0.1 40001 25\r\n")
        _ = try c.reply()
        _ = try c.command("EHLO client.example")
        _ = try c.command("MAIL FROM:<\(from)>")
        XCTAssertEqual(try c.command("RCPT TO:<u@example.org>").code, 250)
        _ = try c.command("DATA")
        try c.write(message + ".\r\n")
        return try c.reply().code
    }

    func testVerdictsHeaderAndADMARCRejectRule() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        // The signer's key, made with our CLI in a scratch config; dkimpy signs with it.
        let keys = try DaemonProcess()
        let (status, out, err) = try keys.cli(["dkim", "keygen", "--domain", "signed.test", "--selector", "s1"])
        XCTAssertEqual(status, 0, err)
        let record = out.components(separatedBy: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element).joined()
        let zone = """
            $ORIGIN test.
            $TTL 60
            signed.test.            IN TXT "v=spf1 ip4:198.51.100.9 -all"
            _dmarc.signed.test.     IN TXT "v=DMARC1; p=reject"
            s1._domainkey.signed.test. IN TXT \(record.chunked)
            strict.test.            IN TXT "v=spf1 ip4:198.51.100.1 -all"
            _dmarc.strict.test.     IN TXT "v=DMARC1; p=reject"

            """
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }

        let d = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 3s }
            local_domains: [example.org]
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, proxy_protocol: true, proxy_from: [127.0.0.1/32],
                  verify: [spf, dkim, dmarc], rules: inbound }
              - { name: direct, address: "127.0.0.1:0", tls: none, verify: [spf, dkim, dmarc], rules: inbound }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try """
            rules:
              - name: dmarc-reject
                when: [ { dmarc_policy: reject } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "DMARC policy of the From domain says reject" } } ]
              - name: note-softfail
                when: [ { spf: [fail, softfail] } ]
                then: [ { add_header: { name: X-SPF-Warning, value: "yes" } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """.write(toFile: d.root + "/rules/inbound.yaml", atomically: true, encoding: .utf8)
        try d.start()

        // 1. Signed by dkimpy, sent from the address SPF allows, with a forged Authentication-Results.
        let message = "Authentication-Results: mx.sluice.test; dkim=pass header.d=bank.test\r\nFrom: Alice <alice@signed.test>\r\nTo: u@example.org\r\nSubject: verified\r\nMessage-ID: <ma-1@signed.test>\r\n\r\nhello\r\n"
        try message.write(toFile: d.root + "/m.eml", atomically: true, encoding: .utf8)
        let (signStatus, signed, signErr) = try runTool(
            "/usr/bin/python3", ["\(Self.interop)/dkim_sign.py", d.root + "/m.eml", keys.root + "/var/dkim/signed.test.s1.pem", "signed.test", "s1"])
        if signErr.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing") }
        XCTAssertEqual(signStatus, 0, signErr)
        XCTAssertEqual(try send(d.port("mx"), clientIP: "198.51.100.9", from: "bounces@signed.test", message: signed), 250)
        let stored = String(decoding: try XCTUnwrap(d.waitForOutbox(count: 1).first), as: UTF8.self)
        let results = stored.components(separatedBy: "Authentication-Results:")
        XCTAssertEqual(results.count, 2, "exactly one Authentication-Results, ours: \(stored)")
        XCTAssertTrue(stored.hasPrefix("Authentication-Results: mx.sluice.test;"), stored)
        XCTAssertTrue(stored.contains("spf=pass smtp.mailfrom=signed.test"), stored)
        XCTAssertTrue(stored.contains("dkim=pass header.d=signed.test header.s=s1"), stored)
        XCTAssertTrue(stored.contains("dmarc=pass (p=reject dis=none) header.from=signed.test"), stored)
        XCTAssertFalse(stored.contains("bank.test"), "the forged header claiming our authserv-id is removed")

        // 2. Unsigned, from an address SPF does not allow, for a domain that publishes p=reject.
        let spoof = "From: CEO <ceo@strict.test>\r\nTo: u@example.org\r\nSubject: wire money\r\n\r\nnow\r\n"
        XCTAssertEqual(try send(d.port("mx"), clientIP: "203.0.113.50", from: "ceo@strict.test", message: spoof), 550)
        XCTAssertTrue(d.log().contains("DMARC policy of the From domain says reject"), d.log())
        XCTAssertEqual(d.outboxFiles().count, 1)

        // 3. The same forgery from a loopback client (a local proxy or content filter without the PROXY
        // protocol): SPF is evaluated against the record, not passed as "localhost" (libspf2's exemption).
        let c = try TestSMTPClient(port: d.port("direct"))
        XCTAssertEqual(try c.reply().code, 220)
        try c.beginTransaction(helo: "client.example", from: "ceo@strict.test", to: ["u@example.org"])
        try c.write(spoof + ".\r\n")
        XCTAssertEqual(try c.reply().code, 550, d.log())
        XCTAssertEqual(d.outboxFiles().count, 1)
        let loopbackLines = d.log().split(separator: "\n").filter { $0.contains("listener\":\"direct") && $0.contains("spf") }
        XCTAssertFalse(loopbackLines.contains { $0.contains("spf=pass") }, loopbackLines.joined(separator: "\n"))
    }
}

extension String {
    /// A long TXT value as quoted zone-file strings of at most 250 bytes.
    var chunked: String {
        var parts: [String] = []
        var rest = Substring(self)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(250))\"")
            rest = rest.dropFirst(250)
        }
        return parts.joined(separator: " ")
    }
}
