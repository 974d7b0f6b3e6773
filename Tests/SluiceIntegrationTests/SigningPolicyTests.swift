// The signing policy end to end (R-CORE-2): mail is DKIM-signed for a domain
// only when its sender is authorised for that domain. A spoofed message from
// an untrusted, unauthenticated client (its address given by the PROXY
// protocol) leaves unsigned and the log says why; the same From: from a
// trusted network and from an authenticated user is signed, and dkimpy
// verifies it; a `dkim_sign` rule signs mail nobody vouches for.

import Foundation
import XCTest

final class SigningPolicyTests: XCTestCase {
    static let verify = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop/dkim_verify.py").standardizedFileURL.path

    func testOnlyAuthorisedMailIsSigned() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        guard let swaks = which("swaks") else { throw XCTSkip("swaks not installed; make test installs it") }
        let d = try DaemonProcess(yaml: """
            networks: { trusted: [127.0.0.1/32] }
            senders: { trusted: [example.test] }
            local_domains: [example.org, lists.example.org]
            dkim:
              - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: var/dkim/example.test.s1.pem, state: active }
            listeners:
              - { name: inbound, address: "127.0.0.1:0", tls: none, proxy_protocol: true, proxy_from: [127.0.0.1/32], rules: default }
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
              - { name: submission, address: "127.0.0.1:0", tls: starttls, auth: required, auth_failure_delay: 10ms, rules: default }
            """)
        try d.writeRules("""
            rules:
              - name: list-traffic
                when: [ { recipient: { domain: [lists.example.org] } } ]
                then: [ { dkim_sign: example.test }, { store: var/outbox }, stop ]
              - name: all
                then: [ { store: var/outbox } ]
            """)
        XCTAssertEqual(try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1"]).0, 0)
        let (_, records, _) = try d.cli(["dkim", "dns", "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(records.utf8)) as? [String: Any])
        let zone = (json["records"] as? [[String: String]] ?? []).compactMap { r in r["record"].map { "\(r["name"]!)\t\($0)" } }
            .joined(separator: "\n") + "\n"
        try zone.write(toFile: d.root + "/zone.txt", atomically: true, encoding: .utf8)
        try d.start()

        func message(_ n: Int, to: String = "u@example.org") -> String {
            "From: <x@example.test>\r\nTo: \(to)\r\nSubject: invoice \(n)\r\nMessage-ID: <sign-\(n)@example.test>\r\n\r\npay now\r\n"
        }
        func stored(_ n: Int) throws -> (path: String, text: String) {
            XCTAssertTrue(waitUntil { d.outboxFiles().contains { self.text(d, $0).contains("<sign-\(n)@") } }, d.log())
            let name = try XCTUnwrap(d.outboxFiles().first { text(d, $0).contains("<sign-\(n)@") })
            return (d.outbox + "/" + name, text(d, name))
        }
        func dkimpy(_ path: String) throws -> (Int32, String) {
            let (code, out, err) = try runTool("/usr/bin/python3", [Self.verify, path, d.root + "/zone.txt"])
            if err.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing; make test installs it") }
            return (code, out + err)
        }

        /// One message from 203.0.113.7 (an outside client, neither authenticated nor trusted) through the PROXY protocol.
        func sendFromOutside(_ text: String, to: String) throws -> Int {
            let c = try TestSMTPClient(port: d.port("inbound"))
            try c.write("PROXY TCP4 203.0.113.7 127.0.0.1 40001 25\r\n")
            XCTAssertEqual(try c.reply().code, 220)
            try c.beginTransaction(helo: "outside.example", from: "x@example.test", to: [to])
            try c.write(text + ".\r\n")
            return try c.reply().code
        }

        // 1. Spoofed: an outside client claims our domain.
        XCTAssertEqual(try sendFromOutside(message(1), to: "u@example.org"), 250)
        let spoofed = try stored(1)
        XCTAssertFalse(spoofed.text.contains("DKIM-Signature:"), "spoofed mail must leave unsigned:\n\(spoofed.text)")
        XCTAssertTrue(d.log().contains("unsigned: client 203.0.113.7 is neither authenticated nor in networks.trusted"), d.log())

        // 2. The same message from the trusted network, whose senders.trusted covers example.test: signed.
        let relay = try TestSMTPClient.sendMessage(port: d.port("relay"), from: "x@example.test", to: "u@example.org", message: message(2))
        XCTAssertEqual(relay.code, 250)
        let trusted = try stored(2)
        XCTAssertTrue(trusted.text.hasPrefix("DKIM-Signature:"), trusted.text)
        var (code, out) = try dkimpy(trusted.path)
        XCTAssertEqual(code, 0, out)
        XCTAssertTrue(out.contains("pass d=example.test s=s1"), out)

        // 3. An authenticated user allowed to send as example.test: signed.
        let (status, created, err) = try d.cli(["creds", "add", "app", "--allow-from", "example.test", "--json"])
        XCTAssertEqual(status, 0, err)
        let secret = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["secret"] as? String)
        try message(3).write(toFile: d.root + "/m3.eml", atomically: true, encoding: .utf8)
        let (sent, swaksOut, swaksErr) = try runTool(swaks, [
            "--server", "127.0.0.1:\(d.port("submission"))", "-tls", "--auth", "PLAIN", "--auth-user", "app", "--auth-password", secret,
            "--from", "x@example.test", "--to", "u@example.org", "--data", d.root + "/m3.eml", "--timeout", "20",
        ])
        XCTAssertEqual(sent, 0, swaksOut + swaksErr)
        let user = try stored(3)
        (code, out) = try dkimpy(user.path)
        XCTAssertEqual(code, 0, out + user.text)
        XCTAssertTrue(out.contains("pass d=example.test s=s1"), out)

        // 4. A rule that signs explicitly (a list the gateway speaks for): signed even from the outside client.
        XCTAssertEqual(try sendFromOutside(message(4, to: "all@lists.example.org"), to: "all@lists.example.org"), 250)
        let listed = try stored(4)
        (code, out) = try dkimpy(listed.path)
        XCTAssertEqual(code, 0, out + listed.text)
        XCTAssertTrue(d.log().contains("signed for example.test by a dkim_sign rule"), d.log())
    }

    func testADKIMSignRuleNeedsAKey() throws {
        let d = try DaemonProcess(yaml: "listeners:\n  - { name: relay, address: \"127.0.0.1:0\", tls: none, rules: default }\n")
        try d.writeRules("rules:\n  - name: sign\n    then: [ { dkim_sign: other.test }, { store: var/outbox } ]\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("default.yaml:3:26: rules[0].then[0].dkim_sign: no active DKIM key signs for 'other.test'"), err)
    }

    private func text(_ d: DaemonProcess, _ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + name) ?? Data(), as: UTF8.self)
    }
}
