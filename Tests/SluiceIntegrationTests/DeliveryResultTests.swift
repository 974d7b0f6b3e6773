// Delivery results that say what happened: a real Postfix is the remote
// (STARTTLS with a test certificate); it takes alice, refuses bob for good
// (550 5.1.1 user unknown) and carol for now (450 4.2.0). The DSN for bob
// carries the remote's Status, Diagnostic-Code with its enhanced code, and
// Remote-MTA, field by field; `queue show` of the message still waiting for
// carol names the remote host, its reply and the TLS used.

import Foundation
import SluiceTestSupport
import XCTest

final class DeliveryResultTests: XCTestCase {
    func testRemoteRepliesReachTheDSNAndQueueShow() throws {
        let tlsDir = NSTemporaryDirectory() + "sluice-pf-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: tlsDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: tlsDir) }
        let (code, _, err) = try runTool(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=postfix.sluice.test",
             "-keyout", tlsDir + "/key.pem", "-out", tlsDir + "/cert.pem"])
        XCTAssertEqual(code, 0, err)
        let postfix: PostfixInstance
        do {
            postfix = try PostfixInstance(mainCF: """
                mydestination = users.test
                local_recipient_maps = inline:{ alice=x, carol=x }
                local_transport = discard:
                smtpd_recipient_restrictions = check_recipient_access inline:{ { carol@users.test = 450 4.2.0 try again later } }, permit_mynetworks, reject_unauth_destination
                smtpd_tls_security_level = may
                smtpd_tls_cert_file = \(tlsDir)/cert.pem
                smtpd_tls_key_file = \(tlsDir)/key.pem
                """)
        } catch let e as PostfixUnavailable {
            throw XCTSkip("\(e)")
        }
        defer { postfix.stop() }
        let relay = try DaemonProcess(yaml: """
            upstreams:
              mx: { hosts: ["127.0.0.1:\(postfix.port)"], tls: opportunistic }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("""
            rules:
              - name: back-to-us
                when: [ { recipient: { domain: [example.test] } } ]
                then: [ { store: var/dsn }, stop ]
              - name: out
                then: [ { relay: mx } ]
            """)
        try relay.start()
        let c = try TestSMTPClient(port: relay.port())
        _ = try c.reply()
        _ = try c.command("EHLO app.test")
        XCTAssertEqual(try c.command("MAIL FROM:<app@example.test>").code, 250)
        for r in ["alice", "bob", "carol"] { XCTAssertEqual(try c.command("RCPT TO:<\(r)@users.test>").code, 250) }
        _ = try c.command("DATA")
        try c.write("From: app@example.test\r\nSubject: three ways\r\nMessage-ID: <three@example.test>\r\n\r\nhi\r\n.\r\n")
        let queued = try c.reply()
        XCTAssertEqual(queued.code, 250)
        let id = try XCTUnwrap(queued.text.split(separator: " ").last.map(String.init))

        // bob's DSN, stored back here.
        let dsnDir = relay.root + "/var/dsn"
        XCTAssertTrue(waitUntil { ((try? FileManager.default.contentsOfDirectory(atPath: dsnDir)) ?? []).count == 1 }, relay.log() + postfix.log)
        let dsnFile = dsnDir + "/" + (try FileManager.default.contentsOfDirectory(atPath: dsnDir)[0])
        let dsn = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dsnFile)), as: UTF8.self)
        let block = try XCTUnwrap(dsn.components(separatedBy: "\r\n\r\n").first { $0.contains("Final-Recipient: rfc822; bob@users.test") }, dsn)
        let fields = Dictionary(block.split(separator: "\r\n").compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }) { a, _ in a }
        XCTAssertEqual(fields["Action"], "failed")
        XCTAssertEqual(fields["Status"], "5.1.1")
        XCTAssertEqual(fields["Remote-MTA"], "dns; 127.0.0.1")
        XCTAssertEqual(fields["Diagnostic-Code"], "smtp; 550 5.1.1 <bob@users.test>: Recipient address rejected: User unknown in local recipient table")
        XCTAssertFalse(dsn.contains("carol@users.test>: Recipient"), "carol is deferred, not bounced")
        // Python's email package reads the same.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop/dsn_check.py").standardizedFileURL.path
        let (status, out, perr) = try runTool(
            "/usr/bin/python3",
            [script, dsnFile, "bob@users.test", "5.1.1", "--diagnostic", "smtp; 550 5.1.1 <bob@users.test>:", "--remote-mta", "dns; 127.0.0.1"])
        XCTAssertEqual(status, 0, out + perr)

        // carol waits: queue show names the remote, its reply and the TLS used.
        XCTAssertTrue(relay.waitForLog("\"event\":\"deferred\""), relay.log())
        let (showCode, shown, showErr) = try relay.cli(["queue", "show", id])
        XCTAssertEqual(showCode, 0, showErr)
        XCTAssertTrue(shown.contains("-> carol@users.test"), shown)
        let carol = try XCTUnwrap(shown.components(separatedBy: "route:").first { $0.contains("-> carol@users.test") }, shown)
        // Postfix picks the TLS 1.3 suite; whichever it is, it is named as OpenSSL names it.
        XCTAssertTrue(carol.contains("at 127.0.0.1:\(postfix.port) (TLSv1.3 TLS_AES_"), carol)
        XCTAssertTrue(carol.contains(", not verified) replied 450 4.2.0 <carol@users.test>: Recipient address rejected: try again later"), carol)
        let (_, json, _) = try relay.cli(["queue", "show", id, "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let delivery = try XCTUnwrap(object["delivery"] as? [[String: Any]])
        let waiting = try XCTUnwrap(delivery.first { ($0["recipients"] as? [String]) == ["carol@users.test"] })
        XCTAssertEqual((waiting["reply"] as? [String: Any])?["status"] as? String, "4.2.0")
        XCTAssertEqual((waiting["remote"] as? [String: Any])?["tls_version"] as? String, "TLSv1.3")
        XCTAssertTrue(((waiting["remote"] as? [String: Any])?["tls_cipher"] as? String ?? "").hasPrefix("TLS_"), "\(waiting)")
        XCTAssertEqual(waiting["reply_from_remote"] as? Bool, true)
        // The log line of the attempt carries the remote and the transport.
        XCTAssertTrue(relay.log().split(separator: "\n").contains {
            $0.contains("\"event\":\"delivered\"") && $0.contains("alice@users.test") && $0.contains("\"remote\":\"127.0.0.1:\(postfix.port)\"")
                && $0.contains("TLSv1.3")
        }, relay.log())
    }
}
