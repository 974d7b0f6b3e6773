// A listener that takes mail from clients Sluice does not trust (an MX: no
// policy limiting it to trusted networks, no required AUTH, local domains to
// accept for) verifies SPF, DKIM and DMARC without being told (issue 20); a
// relay for trusted networks and a listener with `verify: []` do not.

import Foundation
import SluiceTestSupport
import XCTest

final class DefaultVerificationTests: XCTestCase {
    func testAListenerThatAdmitsUntrustedClientsVerifiesByDefault() throws {
        let zone = """
            $ORIGIN test.
            $TTL 60
            strict.test.            IN TXT "v=spf1 ip4:198.51.100.1 -all"
            _dmarc.strict.test.     IN TXT "v=DMARC1; p=reject"

            """
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let d = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 3s }
            local_domains: [example.org]
            policies:
              trusted-only:
                default: deny
                statements:
                  - { action: allow, when: [ { client_ip: [127.0.0.0/8] } ] }
              anyone:
                default: deny
                statements:
                  - { action: allow, when: [ { client_ip: [0.0.0.0/0] } ] }
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, rules: inbound }
              - { name: open, address: "127.0.0.1:0", tls: none, policy: anyone, rules: inbound }
              - { name: relay, address: "127.0.0.1:0", tls: none, policy: trusted-only, rules: inbound }
              - { name: off, address: "127.0.0.1:0", tls: none, verify: [], rules: inbound }
            """)
        try d.writeRules("rules:\n  - { name: all, then: [ { store: var/outbox } ] }\n", set: "inbound")
        let (status, out, err) = try d.cli(["check"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("listener mx: verifies dkim, dmarc, spf (by default"), out)
        XCTAssertTrue(out.contains("listener open: verifies dkim, dmarc, spf (by default"), out)
        XCTAssertFalse(out.contains("listener relay:"), out)
        XCTAssertFalse(out.contains("listener off:"), out)
        try d.start()
        defer { _ = d.stop() }

        var stored: [String: String] = [:]
        for (n, listener) in ["mx", "open", "relay", "off"].enumerated() {
            let r = try TestSMTPClient.sendMessage(
                port: d.port(listener), from: "ceo@strict.test", to: "u@example.org",
                message: "From: CEO <ceo@strict.test>\r\nTo: u@example.org\r\nSubject: via \(listener)\r\n\r\nnow\r\n")
            XCTAssertEqual(r.code, 250, d.log())
            let files = d.waitForOutbox(count: n + 1)
            XCTAssertEqual(files.count, n + 1, d.log())
            let texts = files.map { String(decoding: $0, as: UTF8.self) }
            stored[listener] = texts.first { $0.contains("Subject: via \(listener)\r\n") }
        }
        for listener in ["mx", "open"] {
            let text = try XCTUnwrap(stored[listener], listener)
            XCTAssertTrue(text.contains("Authentication-Results: mx.sluice.test;"), text)
            XCTAssertTrue(text.contains("spf=fail smtp.mailfrom=strict.test"), text)
            XCTAssertTrue(text.contains("dmarc=fail (p=reject"), text)
        }
        for listener in ["relay", "off"] {
            let text = try XCTUnwrap(stored[listener], listener)
            XCTAssertFalse(text.contains("Authentication-Results:"), text)
        }
    }
}
