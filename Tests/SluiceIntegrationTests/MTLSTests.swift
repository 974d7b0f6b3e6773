// Client-certificate ingress end to end (R-SMTP-2 `auth: mtls`, R-CORE-2):
// a PKI made with the openssl tool; swaks and Python's ssl present the
// certificates. The allowed certificate relays (a domain that is not local)
// and its mail is DKIM-signed (dkimpy verifies it); no certificate, a
// certificate from another CA and a revoked one are refused with the reply
// that says so; a rule tests the subject.

import Foundation
import XCTest

final class MTLSTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop").standardizedFileURL.path

    func testClientCertificatesRelaySignAndRefuse() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        guard let swaks = which("swaks"), let openssl = which("openssl") else { throw XCTSkip("swaks or openssl missing; make test installs them") }
        _ = openssl
        let pki = NSTemporaryDirectory() + "sluice-pki-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let (made, _, madeErr) = try runTool("/bin/sh", [Self.interop + "/make_client_pki.sh", pki])
        XCTAssertEqual(made, 0, madeErr)

        let d = try DaemonProcess(yaml: """
            local_domains: [example.org]
            certificates:
              - { subject: "CN=app1", senders: [example.test] }
            dkim:
              - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: var/dkim/example.test.s1.pem, state: active }
            listeners:
              - { name: mtls, address: "127.0.0.1:0", tls: starttls, auth: mtls, client_ca: "\(pki)/ca.pem", client_crl: "\(pki)/ca.crl", rules: default }
              - { name: optional, address: "127.0.0.1:0", tls: starttls, client_ca: "\(pki)/ca.pem", policy: certified, rules: default }
            policies:
              certified:
                default: allow
                statements:
                  - { action: deny, when: [ { tls_client_cert: { subject: { contains: "CN=app2" } } } ], reply: "550 5.7.1 app2 may not send here" }
            """)
        try d.writeRules("""
            rules:
              - name: app1-tag
                when: [ { tls_client_cert: { subject: "CN=app1", san: { ends_with: "@example.test" } } } ]
                then: [ { add_header: { name: X-Client-Cert, value: app1 } } ]
              - name: all
                then: [ { store: var/outbox } ]
            """)
        XCTAssertEqual(try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1"]).0, 0)
        let (_, records, _) = try d.cli(["dkim", "dns", "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(records.utf8)) as? [String: Any])
        let zone = (json["records"] as? [[String: String]] ?? []).compactMap { r in r["record"].map { "\(r["name"]!)\t\($0)" } }
            .joined(separator: "\n") + "\n"
        try zone.write(toFile: d.root + "/zone.txt", atomically: true, encoding: .utf8)
        let (checked, checkOut, checkErr) = try d.cli(["check"])
        XCTAssertEqual(checked, 0, checkErr)
        XCTAssertTrue(checkOut.contains("listener mtls: asks clients for a certificate issued by \(pki)/ca.pem and refuses MAIL without one"), checkOut)
        try d.start()
        let port = d.port("mtls")

        func message(_ n: Int) throws -> String {
            let path = d.root + "/m\(n).eml"
            try "From: <x@example.test>\r\nTo: <u@far.example>\r\nSubject: mtls \(n)\r\nMessage-ID: <mtls-\(n)@example.test>\r\n\r\nhello\r\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func swaksWith(_ name: String?, _ n: Int) throws -> (Int32, String) {
            var args = ["--server", "127.0.0.1:\(port)", "-tls", "--from", "x@example.test", "--to", "u@far.example", "--data", try message(n), "--timeout", "20"]
            if let name { args += ["--tls-cert", "\(pki)/\(name).pem", "--tls-key", "\(pki)/\(name).key"] }
            let (code, out, err) = try runTool(swaks, args)
            return (code, out + err)
        }
        func stored(_ n: Int) throws -> (path: String, text: String) {
            func text(_ name: String) -> String { String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + name) ?? Data(), as: UTF8.self) }
            XCTAssertTrue(waitUntil { d.outboxFiles().contains { text($0).contains("<mtls-\(n)@") } }, d.log())
            let name = try XCTUnwrap(d.outboxFiles().first { text($0).contains("<mtls-\(n)@") })
            return (d.outbox + "/" + name, text(name))
        }

        // 1. The allowed certificate (swaks): relayed to a domain that is not local, tagged by the rule, signed.
        var (code, out) = try swaksWith("app1", 1)
        XCTAssertEqual(code, 0, out)
        let signed = try stored(1)
        XCTAssertTrue(signed.text.contains("X-Client-Cert: app1"), signed.text)
        XCTAssertTrue(signed.text.contains("DKIM-Signature:"), signed.text)
        let (verified, verifyOut, verifyErr) = try runTool("/usr/bin/python3", [Self.interop + "/dkim_verify.py", signed.path, d.root + "/zone.txt"])
        if verifyErr.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing; make test installs it") }
        XCTAssertEqual(verified, 0, verifyOut + verifyErr)
        XCTAssertTrue(d.log().contains("client certificate CN=app1 may send as example.test"), d.log())
        XCTAssertTrue(d.log().contains("tls_client_cert"), d.log())

        // 2. No certificate: MAIL refused with a reply that says why.
        (code, out) = try swaksWith(nil, 2)
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(out.contains("530 5.7.0 A client certificate is required"), out)

        // 3. A certificate with the same subject from another CA: the handshake fails, nothing is accepted.
        (code, out) = try swaksWith("rogue", 3)
        XCTAssertNotEqual(code, 0)
        XCTAssertFalse(out.contains("250 2.0.0 Ok: queued"), out)

        // 4. A certificate of the CA that its revocation list names.
        (code, out) = try swaksWith("app2", 4)
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(out.contains("550 5.7.1 Client certificate revoked"), out)

        // 5. Python's ssl: the allowed certificate relays; without one, refused.
        let script = Self.interop + "/smtplib_mtls.py"
        var (status, py, pyErr) = try runTool("/usr/bin/python3", [script, "\(port)", "\(pki)/app1.pem", "\(pki)/app1.key", "x@example.test", "u@far.example", "mtls-5@example.test"])
        XCTAssertEqual(status, 0, pyErr)
        XCTAssertEqual(py.trimmingCharacters(in: .whitespacesAndNewlines), "sent", pyErr)
        XCTAssertTrue(try stored(5).text.contains("DKIM-Signature:"))
        (status, py, pyErr) = try runTool("/usr/bin/python3", [script, "\(port)", "-", "-", "x@example.test", "u@far.example", "mtls-6@example.test"])
        XCTAssertEqual(status, 0, pyErr)
        XCTAssertTrue(py.hasPrefix("refused 530"), py + pyErr)
        (status, py, pyErr) = try runTool("/usr/bin/python3", [script, "\(port)", "\(pki)/rogue.pem", "\(pki)/rogue.key", "x@example.test", "u@far.example", "mtls-7@example.test"])
        XCTAssertEqual(status, 0, pyErr)
        XCTAssertFalse(py.hasPrefix("sent"), py + pyErr)
        XCTAssertEqual(d.outboxFiles().count, 2, d.log())

        // 6. A policy statement tests the certificate (a listener that asks for one without insisting).
        var args = ["--server", "127.0.0.1:\(d.port("optional"))", "-tls", "--from", "x@example.test", "--to", "u@example.org", "--timeout", "20"]
        func run(_ arguments: [String]) throws -> (Int32, String) {
            let (status, stdout, stderr) = try runTool(swaks, arguments)
            return (status, stdout + stderr)
        }
        (code, out) = try run(args + ["--tls-cert", "\(pki)/app2.pem", "--tls-key", "\(pki)/app2.key"])
        XCTAssertNotEqual(code, 0)
        XCTAssertTrue(out.contains("550 5.7.1 app2 may not send here"), out)
        args += ["--data", try message(8)]
        (code, out) = try run(args)
        XCTAssertEqual(code, 0, "no certificate is fine on this listener, for a local recipient: \(out)")
    }

    /// A revocation list another CA signed is a load error that names it, for `sluice check` as for the daemon.
    func testARevocationListMustComeFromTheClientCA() throws {
        guard which("openssl") != nil else { throw XCTSkip("openssl missing; make test installs it") }
        let pki = NSTemporaryDirectory() + "sluice-pki-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: pki) }
        XCTAssertEqual(try runTool("/bin/sh", [Self.interop + "/make_client_pki.sh", pki]).0, 0)
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: mtls, address: "127.0.0.1:0", auth: mtls, client_ca: "\(pki)/other-ca.pem", client_crl: "\(pki)/ca.crl" }
            """)
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("listeners.mtls.client_crl: \(pki)/ca.crl: a revocation list of CN=Example Client CA,O=Example, which is not a CA in"), err)
    }
}
