// REQUIRETLS end to end (RFC 8689): Python's smtplib asks for it; the
// relay refuses it before STARTTLS and takes it after; such mail goes only
// over TLS with a verified certificate to a next hop that offers REQUIRETLS
// (a Sluice daemon with a certificate from the test CA), is refused at once
// by one that does not (a private Postfix with TLS: 5.7.30 in the DSN), and
// is never sent to one without TLS (deferred, then bounced with 5.7.10 when
// max_delivery_time runs out).

import Foundation
import SluiceTestSupport
import XCTest

final class RequireTLSTests: XCTestCase {
    func testRequireTLSGoesOnlyWhereItCan() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), which("openssl") != nil else {
            throw XCTSkip("python3 or openssl missing; make test installs them")
        }
        let pki = NSTemporaryDirectory() + "sluice-rt-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let (made, _, madeErr) = try runTool("/bin/sh", [MTLSTests.interop + "/make_server_pki.sh", pki, "mx=mx.good.test", "pf=postfix.sluice.test,127.0.0.1"])
        XCTAssertEqual(made, 0, madeErr)
        let postfix: PostfixInstance
        do {
            postfix = try PostfixInstance(mainCF: """
                mydestination = pf.test
                local_recipient_maps =
                local_transport = discard:
                smtpd_tls_security_level = may
                smtpd_tls_cert_file = \(pki)/pf.pem
                smtpd_tls_key_file = \(pki)/pf.key
                """)
        } catch let e as PostfixUnavailable {
            throw XCTSkip("\(e)")
        }
        defer { postfix.stop() }
        let dns: FixtureDNSServer
        do {
            dns = try FixtureDNSServer(zone: """
                $ORIGIN test.
                $TTL 60
                good.test. IN MX 10 mx.good.test.
                mx.good.test. IN A 127.0.0.1
                plain.test. IN MX 10 mx.plain.test.
                mx.plain.test. IN A 127.0.0.2

                """)
        } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let port = freeLoopbackPort()
        let tlsHop = try sinkDaemon(port: port, extra: "tls: { certificate: \(pki)/mx.pem, key: \(pki)/mx.key }")
        let plainHop = try DaemonProcess(yaml: """
            networks: { trusted: [127.0.0.0/8] }
            listeners:
              - { name: relay, address: "127.0.0.2:\(port)", tls: none }
            """)
        try tlsHop.start()
        try plainHop.start()
        let relay = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 5s }
            networks: { trusted: [127.0.0.0/8] }
            upstreams:
              pf: { hosts: ["127.0.0.1:\(postfix.port)"], tls: opportunistic }
            delivery: { send_port: \(port), retry_schedule: [1s], max_delivery_time: 4s, ca_file: \(pki)/ca.pem }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: starttls, rules: default }
            """)
        try relay.writeRules("""
            rules:
              - name: back-to-us
                when: [ { recipient: { domain: [example.test] } } ]
                then: [ { store: var/dsn }, stop ]
              - name: to-postfix
                when: [ { recipient: { domain: [pf.test] } } ]
                then: [ { relay: pf }, stop ]
              - name: out
                then: [ send ]
            """)
        try relay.start()

        let script = """
            import smtplib, ssl, sys
            port = int(sys.argv[1])
            s = smtplib.SMTP("127.0.0.1", port)
            s.ehlo("client.test")
            print("plain-offers", s.has_extn("requiretls"))
            print("plain-mail", s.mail("app@example.test", ["REQUIRETLS"])[0])
            s.rset()
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo("client.test")
            print("tls-offers", s.has_extn("requiretls"))
            for name in ["good", "plain", "pf"]:
                msg = f"From: app@example.test\\r\\nMessage-ID: <rt-{name}@test>\\r\\nSubject: {name}\\r\\n\\r\\nsecret\\r\\n"
                s.sendmail("app@example.test", [f"u@{name}.test"], msg, mail_options=["REQUIRETLS"])
                print("sent", name)
            s.quit()
            """
        let (code, out, err) = try runTool("/usr/bin/python3", ["-c", script, "\(relay.port())"])
        XCTAssertEqual(code, 0, err + relay.log())
        XCTAssertTrue(out.contains("plain-offers False"), out)
        XCTAssertTrue(out.contains("plain-mail 530"), out)
        XCTAssertTrue(out.contains("tls-offers True"), out)
        XCTAssertTrue(out.contains("sent pf"), out)

        // Verified TLS to a next hop that offers REQUIRETLS: delivered.
        XCTAssertTrue(waitUntil(30) { messageIDs([tlsHop]).contains("<rt-good@test>") }, relay.log())
        // The next hop stores the message before its 250 reaches the relay, which logs the delivery after it.
        let line = { relay.log().split(separator: "\n").first { $0.contains("\"event\":\"delivered\"") && $0.contains("u@good.test") } }
        XCTAssertTrue(waitUntil(30) { line() != nil }, relay.log())
        let delivered = line() ?? ""
        XCTAssertTrue(delivered.contains("verified (system roots and \(pki)/ca.pem)"), String(delivered))

        // Two DSNs come back: Postfix does not offer REQUIRETLS (5.7.30 at once), the plain next hop has no TLS (5.7.10
        // when max_delivery_time ran out).
        let dsnDir = relay.root + "/var/dsn"
        func dsns() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dsnDir)) ?? []).map {
                String(decoding: FileManager.default.contents(atPath: dsnDir + "/" + $0) ?? Data(), as: UTF8.self)
            }
        }
        XCTAssertTrue(waitUntil(30) { dsns().count == 2 }, relay.log())
        let pf = dsns().first { $0.contains("Final-Recipient: rfc822; u@pf.test") } ?? ""
        XCTAssertTrue(pf.contains("Status: 5.7.30"), pf)
        let plain = dsns().first { $0.contains("Final-Recipient: rfc822; u@plain.test") } ?? ""
        XCTAssertTrue(plain.contains("Status: 5.7.10"), plain)
        XCTAssertEqual(plainHop.outboxFiles().count, 0, "nothing asked to go over TLS went in clear")
        XCTAssertFalse(postfix.log.contains("rt-pf@test"), "Postfix never got the message")
    }
}
