// Authenticated submission end to end: swaks and smtplib log in with
// credentials made by `sluice creds`, over STARTTLS and implicit TLS; bad,
// expired, revoked and rotated-out secrets fail; secrets never reach the
// store, the log or `creds list`; sender identity holds for users and trusted
// networks; failed logins are throttled per IP.

import Foundation
import XCTest

final class AuthTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop").standardizedFileURL.path

    func daemon(_ extra: String = "") throws -> DaemonProcess {
        try DaemonProcess(yaml: """
            networks: { trusted: [127.0.0.1/32] }
            senders: { trusted: [example.test] }
            listeners:
              - { name: submission, address: "127.0.0.1:0", tls: starttls, auth: required, auth_failure_delay: 10ms, received_auth_user: true }
              - { name: smtps, address: "127.0.0.1:0", tls: implicit, auth: required, auth_failure_delay: 10ms }
              - { name: relay, address: "127.0.0.1:0", tls: none }
            \(extra)
            """)
    }

    func addCredential(_ d: DaemonProcess, _ args: [String]) throws -> String {
        let (status, out, err) = try d.cli(["creds", "add"] + args + ["--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        return try XCTUnwrap(json["secret"] as? String)
    }

    /// The states of USER's credentials named NAME, from `sluice creds list --json`.
    func states(_ d: DaemonProcess, _ name: String) -> [String] {
        guard let (_, out, _) = try? d.cli(["creds", "list", "--json"]),
            let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        else { return [] }
        return (json["credentials"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == name }.compactMap { $0["state"] as? String }
    }

    func state(_ d: DaemonProcess, _ name: String) -> String? { states(d, name).first }

    func python(_ args: [String]) throws -> (Int32, String) {
        guard let python = which("python3") else { throw XCTSkip("python3 not installed; make test installs it") }
        let (status, out, err) = try runTool(python, ["\(Self.interop)/smtplib_auth.py"] + args)
        return (status, out + err)
    }

    func testSwaksAndSmtplibAuthenticateOverTLSOnly() throws {
        guard let swaks = which("swaks") else { throw XCTSkip("swaks not installed; make test installs it") }
        let d = try daemon()
        try d.start()
        let secret = try addCredential(d, ["app", "--name", "web1", "--allow-from", "example.test"])
        for (i, (mech, args)) in [
            ("PLAIN", ["--server", "127.0.0.1:\(d.port("submission"))", "-tls"]),
            ("LOGIN", ["--server", "127.0.0.1:\(d.port("submission"))", "-tls"]),
            ("PLAIN", ["--server", "127.0.0.1:\(d.port("smtps"))", "--tlsc"]),
        ].enumerated() {
            let (status, out, err) = try runTool(
                swaks,
                args + ["--auth", mech, "--auth-user", "app", "--auth-password", secret, "--from", "app@example.test",
                    "--to", "x@example.org", "--header", "Message-ID: <auth-\(i)@test>", "--timeout", "20"])
            XCTAssertEqual(status, 0, out + err)
            XCTAssertTrue(out.contains("235 2.7.0"), out)
        }
        // swaks ends its TLS sessions with QUIT and closes: a normal end, not an error (issue 20).
        XCTAssertFalse(d.log().contains("\"event\":\"error\""), d.log())
        // The self-signed certificate made at the first start is its own event, not "ready".
        XCTAssertTrue(d.log().contains("\"event\":\"tls_certificate\""), d.log())
        var (status, out) = try python(["starttls", "\(d.port("submission"))", "app", secret, "app@example.test", "py-auth-1@test"])
        XCTAssertEqual(status, 0, out)
        (status, out) = try python(["ssl", "\(d.port("smtps"))", "app", secret, "app@example.test", "py-auth-2@test"])
        XCTAssertEqual(status, 0, out)
        let files = d.waitForOutbox(count: 5).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(files.allSatisfy { $0.contains("with ESMTPSA") })
        // received_auth_user: true on submission only: the smtps copy does not name the user.
        XCTAssertEqual(files.filter { $0.contains("(Authenticated sender: app)") }.count, 3, "the three that came in on submission")
        XCTAssertFalse(try XCTUnwrap(files.first { $0.contains("py-auth-2@test") }).contains("Authenticated sender"))

        // Before TLS: AUTH is neither offered nor accepted, and MAIL needs AUTH.
        let c = try TestSMTPClient(port: d.port("submission"))
        _ = try c.reply()
        XCTAssertFalse(try c.command("EHLO plain.test").lines.contains { $0.contains("AUTH") })
        let b64 = Data("\0app\0\(secret)".utf8).base64EncodedString()
        XCTAssertEqual(try c.command("AUTH PLAIN \(b64)").code, 538)
        XCTAssertEqual(try c.command("MAIL FROM:<app@example.test>").code, 530)

        // The secret is nowhere but in the client's hands.
        let (_, list, _) = try d.cli(["creds", "list", "--json"])
        XCTAssertFalse(list.contains(secret))
        XCTAssertTrue(list.contains("\"last_used_at\" : \"20"), list)
        XCTAssertFalse(d.log().contains(secret))
        XCTAssertFalse(d.log().contains(b64))
        for name in try FileManager.default.contentsOfDirectory(atPath: d.root + "/var") where name.hasPrefix("credentials") {
            let data = try Data(contentsOf: URL(fileURLWithPath: d.root + "/var/" + name))
            XCTAssertNil(data.range(of: Data(secret.utf8)), name)
        }
    }

    func testBadExpiredRevokedAndRotatedOutSecretsFail() throws {
        let d = try daemon()
        try d.start()
        let port = "\(d.port("submission"))"
        let good = try addCredential(d, ["app", "--name", "a", "--allow-from", "example.test"])
        var (status, out) = try python(["starttls", port, "app", good + "x", "app@example.test", "bad@test"])
        XCTAssertEqual(status, 2, out)
        XCTAssertTrue(out.contains("535"), out)
        (status, out) = try python(["starttls", port, "nobody", good, "app@example.test", "bad2@test"])
        XCTAssertEqual(status, 2, out)

        let shortLived = try addCredential(d, ["app", "--name", "short", "--expires", "3s"])
        (status, out) = try python(["starttls", port, "app", shortLived, "app@example.test", "short1@test"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(waitUntil(20) { self.state(d, "short") == "expired" }, "the credential never expired")
        (status, out) = try python(["starttls", port, "app", shortLived, "app@example.test", "short2@test"])
        XCTAssertEqual(status, 2, "expired secret accepted: \(out)")

        // Rotation: during the overlap both work; after it only the new one.
        let (rotStatus, rotOut, rotErr) = try d.cli(["creds", "rotate", "app", "--name", "a", "--overlap", "8s", "--json"])
        XCTAssertEqual(rotStatus, 0, rotErr)
        let new = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(rotOut.utf8)) as? [String: Any])?["secret"] as? String)
        XCTAssertEqual(try python(["starttls", port, "app", good, "app@example.test", "old@test"]).0, 0)
        XCTAssertEqual(try python(["starttls", port, "app", new, "app@example.test", "new@test"]).0, 0)
        let (_, listing, _) = try d.cli(["creds", "list"])
        XCTAssertTrue(listing.contains("retiring until"), listing)
        // The overlap ends: the old secret's state leaves "retiring" (read from `creds list`, polled with a bound).
        XCTAssertTrue(waitUntil(30) { self.states(d, "a").allSatisfy { $0 != "retiring" } }, "the overlap never ended")
        XCTAssertEqual(try python(["starttls", port, "app", good, "app@example.test", "old2@test"]).0, 2)
        XCTAssertEqual(try python(["starttls", port, "app", new, "app@example.test", "new2@test"]).0, 0)

        // Revocation applies to the next session, without a restart.
        XCTAssertEqual(try d.cli(["creds", "revoke", "app", "--name", "a"]).0, 0)
        XCTAssertEqual(try python(["starttls", port, "app", new, "app@example.test", "revoked@test"]).0, 2)
        let (missing, _, missingErr) = try d.cli(["creds", "revoke", "app", "--name", "nope"])
        XCTAssertEqual(missing, 1)
        XCTAssertTrue(missingErr.contains("no credential named"), missingErr)
    }

    /// Issue 20: an id per secret; `revoke --id` takes one (the old secret of a rotation), `--name` the device,
    /// and says what it revoked; allowed senders change only with `creds allow`. The old and the new secret are
    /// tried over SMTP AUTH after each step.
    func testCredsIdsRevokeAndAllowFromTheCLI() throws {
        let d = try daemon()
        try d.start()
        let port = "\(d.port("submission"))"
        let old = try addCredential(d, ["alice", "--name", "laptop", "--allow-from", "example.test"])
        let (_, rotated, _) = try d.cli(["creds", "rotate", "alice", "--name", "laptop", "--json"])
        let new = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(rotated.utf8)) as? [String: Any])?["secret"] as? String)
        let (_, listed, _) = try d.cli(["creds", "list", "--json"])
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any])?["credentials"] as? [[String: Any]])
        let ids = rows.compactMap { $0["id"] as? Int }
        XCTAssertEqual(Set(ids).count, 2, listed)
        let table = try d.cli(["creds", "list"]).1
        XCTAssertTrue(table.hasPrefix("ID"), table)
        let (status, out, err) = try d.cli(["creds", "revoke", "alice", "--id", "\(ids[0])"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("revoked alice/laptop id \(ids[0])"), out)
        XCTAssertEqual(try python(["starttls", port, "alice", old, "alice@example.test", "x@test"]).0, 2, "the old secret is revoked")
        XCTAssertEqual(try python(["starttls", port, "alice", new, "alice@example.test", "y@test"]).0, 0, "the new one works")
        // A second device may not quietly change what alice may send as.
        let (refused, _, refusedErr) = try d.cli(["creds", "add", "alice", "--name", "phone", "--allow-from", "other.test"])
        XCTAssertEqual(refused, 1)
        XCTAssertTrue(refusedErr.contains("creds allow alice"), refusedErr)
        let (allowed, allowOut, allowErr) = try d.cli(["creds", "allow", "alice", "--add", "other.test"])
        XCTAssertEqual(allowed, 0, allowErr)
        XCTAssertTrue(allowOut.contains("example.test,other.test"), allowOut)
        XCTAssertEqual(try python(["starttls", port, "alice", new, "alice@other.test", "z@test"]).0, 0, "the change applies to the next AUTH")
        let (revokedAll, allOut, _) = try d.cli(["creds", "revoke", "alice", "--name", "laptop"])
        XCTAssertEqual(revokedAll, 0)
        XCTAssertTrue(allOut.contains("id \(ids[1])"), allOut)
        XCTAssertNotEqual(try d.cli(["creds", "revoke", "alice"]).0, 0, "--name or --id is required")
    }

    func testSenderIdentityForUsersAndTrustedNetworks() throws {
        let d = try daemon()
        try d.start()
        let secret = try addCredential(d, ["app", "--name", "n", "--allow-from", "a.example"])
        var (status, out) = try python(["starttls", "\(d.port("submission"))", "app", secret, "app@a.example", "ok@test"])
        XCTAssertEqual(status, 0, out)
        // MAIL FROM of another domain.
        (status, out) = try python(["starttls", "\(d.port("submission"))", "app", secret, "app@b.example", "bad-from@test"])
        XCTAssertEqual(status, 3, out)
        XCTAssertTrue(out.contains("5.7.1"), out)

        // From: header of another domain with an allowed envelope sender.
        func rawSession(port: Int, from: String, header: String) throws -> Int {
            try TestSMTPClient.sendMessage(port: port, from: from, to: "x@example.org", message: "From: \(header)\r\nSubject: identity\r\n\r\nhi\r\n").code
        }
        // Trusted network limited to example.test by senders.trusted: envelope and header both checked.
        XCTAssertEqual(try rawSession(port: d.port("relay"), from: "app@example.test", header: "<app@example.test>"), 250)
        XCTAssertEqual(try rawSession(port: d.port("relay"), from: "app@example.test", header: "CEO <ceo@bank.example>"), 550)
        let c = try TestSMTPClient(port: d.port("relay"))
        _ = try c.reply()
        _ = try c.command("EHLO raw.test")
        let r = try c.command("MAIL FROM:<ceo@bank.example>")
        XCTAssertEqual(r.code, 550)
        XCTAssertTrue(r.text.hasPrefix("5.7.1"), r.text)
    }

    func testFailedLoginsAreThrottledPerAddress() throws {
        let d = try daemon()
        try d.start()
        let secret = try addCredential(d, ["app", "--name", "n", "--allow-from", "example.test"])
        guard let python = which("python3") else { throw XCTSkip("python3 not installed") }
        // Ten wrong secrets from 127.0.0.1 for ten different users.
        for i in 0..<10 {
            let (status, _, _) = try runTool(python, ["\(Self.interop)/smtplib_auth.py", "starttls", "\(d.port("submission"))", "user\(i)", "wrong", "a@example.test", "t\(i)@test"])
            XCTAssertEqual(status, 2)
        }
        // The 11th attempt from that address is refused even with the right secret...
        let (status, out, _) = try runTool(python, ["\(Self.interop)/smtplib_auth.py", "starttls", "\(d.port("submission"))", "app", secret, "app@example.test", "t11@test"])
        XCTAssertEqual(status, 2)
        XCTAssertTrue(out.contains("454"), out)
        // ...while another address (127.0.0.2, also loopback) still authenticates.
        guard let swaks = which("swaks") else { throw XCTSkip("swaks not installed") }
        let (okStatus, okOut, okErr) = try runTool(
            swaks,
            ["--server", "127.0.0.1:\(d.port("submission"))", "--local-interface", "127.0.0.2", "-tls", "--auth", "PLAIN",
             "--auth-user", "app", "--auth-password", secret, "--from", "app@example.test", "--to", "x@example.org", "--timeout", "20"])
        XCTAssertEqual(okStatus, 0, okOut + okErr)
        XCTAssertTrue(okOut.contains("235 2.7.0"), okOut)
    }
}
