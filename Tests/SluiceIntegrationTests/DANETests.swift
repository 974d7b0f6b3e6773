// DANE end to end (R-DELIVER-6, RFC 7672): zones signed with ldns-signzone
// and served by a private NSD, the relay's resolver validating from the
// test's trust anchor (dns.trust_anchor); the next hop a Sluice daemon whose
// certificate chain (leaf and CA) is made by the openssl tool. TLSA records
// that match the host's key (DANE-EE) or its CA (DANE-TA) deliver, verified
// by DANE; records that match nothing defer and send nothing; a zone whose
// signatures expired (bogus) defers; an unsigned zone goes opportunistic;
// dane-only for a domain without DANE defers.

import Foundation
import SluiceTestSupport
import XCTest

final class DANETests: XCTestCase {
    func testTLSARecordsDecideAndBogusDefers() throws {
        guard which("openssl") != nil else { throw XCTSkip("openssl missing; make test installs it") }
        let pki = NSTemporaryDirectory() + "sluice-dane-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let names = ["ee", "ta", "wrong", "plain", "strict"].map { "mx.\($0).test" }.joined(separator: ",")
        let (made, _, madeErr) = try runTool("/bin/sh", [MTLSTests.interop + "/make_server_pki.sh", pki, "mx=\(names)"])
        XCTAssertEqual(made, 0, madeErr)
        try (try String(contentsOfFile: pki + "/mx.pem", encoding: .utf8) + String(contentsOfFile: pki + "/ca.pem", encoding: .utf8))
            .write(toFile: pki + "/chain.pem", atomically: true, encoding: .utf8)
        func sha256(_ shell: String) throws -> String {
            let (code, out, err) = try runTool("/bin/sh", ["-c", shell + " | openssl dgst -sha256 -r"])
            XCTAssertEqual(code, 0, err)
            return String(out.prefix(64))
        }
        let spki = try sha256("openssl x509 -in \(pki)/mx.pem -pubkey -noout | openssl pkey -pubin -outform DER")
        let ca = try sha256("openssl x509 -in \(pki)/ca.pem -outform DER")

        let port = freeLoopbackPort()
        func zone(_ name: String, _ tlsa: String?) -> String {
            "@ IN MX 10 mx.\(name).\nmx IN A 127.0.0.1\n" + (tlsa.map { "_\(port)._tcp.mx IN TLSA \($0)\n" } ?? "")
        }
        let dns: SignedZoneServer
        do {
            dns = try SignedZoneServer(zones: [
                .init("ee.test", .valid, zone("ee.test", "3 1 1 \(spki)")),
                .init("ta.test", .valid, zone("ta.test", "2 0 1 \(ca)")),
                .init("wrong.test", .valid, zone("wrong.test", "3 1 1 \(String(repeating: "00", count: 32))")),
                .init("bogus.test", .expired, zone("bogus.test", "3 1 1 \(spki)")),
                .init("plain.test", .unsigned, zone("plain.test", nil)),
                .init("strict.test", .unsigned, zone("strict.test", nil)),
            ])
        } catch let e as SignedZoneUnavailable {
            throw XCTSkip(e.description)
        }
        defer { dns.stop() }

        let hop = try sinkDaemon(port: port, extra: "tls: { certificate: \(pki)/chain.pem, key: \(pki)/mx.key }")
        try hop.start()
        let relay = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 5s, trust_anchor: \(dns.trustAnchor) }
            delivery: { send_port: \(port), retry_schedule: [1s], tls_policy: { strict.test: dane-only } }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ send ]\n")
        let (checked, checkOut, checkErr) = try relay.cli(["check"])
        XCTAssertEqual(checked, 0, checkErr)
        XCTAssertTrue(checkOut.contains("DANE"), checkOut)
        try relay.start()
        for d in ["ee", "ta", "wrong", "bogus", "plain", "strict"] {
            let r = try TestSMTPClient.sendMessage(
                port: relay.port(), from: "app@example.test", to: "u@\(d).test",
                message: "From: app@example.test\r\nMessage-ID: <\(d)@test>\r\nSubject: \(d)\r\n\r\nhello\r\n")
            XCTAssertEqual(r.code, 250, r.text)
        }

        XCTAssertTrue(waitUntil(30) { Set(messageIDs([hop])) == ["<ee@test>", "<ta@test>", "<plain@test>"] }, relay.log())
        // The next hop stores each message before its 250 reaches the relay, which logs the delivery after it.
        let deliveries = { relay.log().split(separator: "\n").filter { $0.contains("\"event\":\"delivered\"") } }
        XCTAssertTrue(waitUntil(30) { deliveries().count >= 3 }, relay.log())
        let delivered = deliveries()
        func line(_ domain: String) -> String { String(delivered.first { $0.contains("u@\(domain)") } ?? "") }
        XCTAssertTrue(line("ee.test").contains("verified (DANE-EE), policy dane"), line("ee.test"))
        XCTAssertTrue(line("ta.test").contains("verified (DANE-TA), policy dane"), line("ta.test"))
        XCTAssertTrue(line("plain.test").contains("not verified, policy default may"), line("plain.test"))

        // Each refused domain is deferred twice (retried), never failed, never delivered.
        let deferrals = { relay.log().split(separator: "\n").filter { $0.contains("\"event\":\"deferred\"") } }
        XCTAssertTrue(waitUntil(30) { ["wrong", "bogus", "strict"].allSatisfy { d in deferrals().filter { $0.contains("u@\(d).test") }.count >= 2 } }, relay.log())
        let byDomain = { (d: String) in deferrals().filter { $0.contains("u@\(d).test") }.joined(separator: "\n") }
        XCTAssertTrue(byDomain("wrong").contains("4.7.5") && byDomain("wrong").contains("no TLSA record of mx.wrong.test"), byDomain("wrong"))
        XCTAssertTrue(byDomain("bogus").contains("DNSSEC bogus"), byDomain("bogus"))
        XCTAssertTrue(byDomain("strict").contains("mx.strict.test has no DANE TLSA records"), byDomain("strict"))
        XCTAssertFalse(relay.log().contains("\"event\":\"failed\""))
        XCTAssertEqual(Set(messageIDs([hop])), ["<ee@test>", "<ta@test>", "<plain@test>"])
    }
}
