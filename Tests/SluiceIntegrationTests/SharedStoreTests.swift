// Two gateway nodes sharing one PostgreSQL (storage.backend: postgres), each
// with its own queue: `sluice storage migrate` and `check`, a credential
// revoked through one node refused by the other, a per-user limit that holds
// across both, one quarantine listed from either node, and the database down:
// AUTH answers 454 4.7.0, mail needing no shared state keeps flowing, and
// everything works again when the database is back.

import Foundation
import SluiceTestSupport
import XCTest

final class SharedStoreTests: XCTestCase {
    static let rules = """
        rules:
          - name: hold-invoices
            when: [ { subject: { contains: invoice } } ]
            then: [ quarantine ]
          - name: everyone
            then: [ { store: var/sink } ]
        """

    /// One nameserver for every node of a test (their configurations differ only in hostname:, as a cluster's do),
    /// stopped when the test ends.
    var dns: FixtureDNSServer?

    override func tearDown() {
        dns = nil
        super.tearDown()
    }

    func node(_ name: String, _ pg: PostgresInstance, database: String, extra: String = "", postgres: String = "") throws -> DaemonProcess {
        if dns == nil { dns = try FixtureDNSServer(zone: "") }
        let d = try DaemonProcess(yaml: """
            hostname: \(name).sluice.test
            dns: { nameserver: "127.0.0.1:\(dns!.port)", timeout: 2s }
            \(extra)
            networks: { trusted: [127.0.0.1/32] }
            policies:
              submission:
                default: allow
                rate_limits:
                  - { per: user, messages: 10, window: 1m }
            listeners:
              - { name: sub, address: "127.0.0.1:0", tls: none, auth: required, auth_requires_tls: false, auth_failure_delay: 10ms, policy: submission, rules: default }
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            storage:
              backend: postgres
              postgres: { url: "\(pg.url(database))", password_file: "\(pg.passwordFile)", pool_size: 4, timeout: 3s\(postgres) }
            """)
        try d.writeRules(Self.rules)
        return d
    }

    /// AUTH PLAIN on a new session; returns the reply (and the client, logged in on 235).
    func login(_ d: DaemonProcess, _ user: String, _ secret: String) throws -> (Int, String, TestSMTPClient) {
        let c = try TestSMTPClient(port: d.port("sub"))
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        let token = Data("\0\(user)\0\(secret)".utf8).base64EncodedString()
        let r = try c.command("AUTH PLAIN \(token)")
        return (r.code, r.text, c)
    }

    /// Sends one message on a logged-in session; returns the reply to MAIL (or to the end of data).
    func send(_ c: TestSMTPClient, subject: String) throws -> (Int, String) {
        let mail = try c.command("MAIL FROM:<app@example.test>")
        guard mail.code == 250 else { return (mail.code, mail.text) }
        XCTAssertEqual(try c.command("RCPT TO:<x@example.org>").code, 250)
        XCTAssertEqual(try c.command("DATA").code, 354)
        try c.write("From: App <app@example.test>\r\nTo: x@example.org\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@test>\r\n\r\nhello\r\n.\r\n")
        let r = try c.reply()
        return (r.code, r.text)
    }

    /// The message stored in `dir` whose text contains `needle` (polled with a bound).
    func stored(in dir: String, containing needle: String, timeout: Double = 30) -> String? {
        var found: String?
        _ = waitUntil(timeout) {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            found = names.lazy.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map { String(decoding: $0, as: UTF8.self) } }
                .first { $0.contains(needle) }
            return found != nil
        }
        return found
    }

    func relay(_ d: DaemonProcess, subject: String) throws -> (Int, String) {
        let c = try TestSMTPClient(port: d.port("relay"))
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        return try send(c, subject: subject)
    }

    func testOneSigningIdentityOneQuarantineAndDriftAcrossNodes() throws {
        let pg: PostgresInstance
        do { pg = try PostgresInstance() } catch let e as PostgresUnavailable { throw XCTSkip("\(e)") }
        defer { pg.stop() }
        try pg.createDatabase("sluice")
        // Every node holds the same key-encryption key; the dkim: list names the domain and its first selector.
        let kek = pg.directory + "/kek"
        let (made, line, _) = try runTool(DaemonProcess.binary, ["archive", "keygen", "--out", kek])
        XCTAssertEqual(made, 0, line)
        let extra = "dkim:\n  - { domain: example.test, selector: s1, algorithm: ed25519-sha256, state: active }"
        let postgres = ", refresh: 500ms, kek_file: \(kek)"
        let a = try node("a", pg, database: "sluice", extra: extra, postgres: postgres)
        let b = try node("b", pg, database: "sluice", extra: extra, postgres: postgres)
        XCTAssertEqual(try a.cli(["storage", "migrate"]).0, 0)
        var (status, out, err) = try a.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1", "--algorithm", "ed25519"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("key kept in the shared store"), out)
        (status, out, err) = try b.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s2", "--algorithm", "ed25519"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("sluice dkim activate --domain example.test --selector s2"), out)
        XCTAssertFalse(try pg.query("SELECT encode(private_key, 'escape') FROM dkim_key", database: "sluice").contains("PRIVATE KEY"), "sealed")
        try a.start()
        try b.start()

        // B signs with s1 only; s2 made active through A: B's next message carries s2 too, with no restart.
        XCTAssertEqual(try relay(b, subject: "before").0, 250)
        let before = try XCTUnwrap(stored(in: b.root + "/var/sink", containing: "Subject: before"))
        XCTAssertTrue(before.contains("s=s1;") && !before.contains("s=s2;"), before)
        (status, out, err) = try a.cli(["dkim", "activate", "--domain", "example.test", "--selector", "s2"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("in the shared store"), out)
        XCTAssertTrue(b.waitForLog("dkim keys or states changed in the shared store", timeout: 30), b.log())
        XCTAssertEqual(try relay(b, subject: "after").0, 250)
        let after = try XCTUnwrap(stored(in: b.root + "/var/sink", containing: "Subject: after"))
        XCTAssertTrue(after.contains("s=s2;"), after)

        // A message quarantined on A, released from B: A delivers it.
        let (code, text) = try relay(a, subject: "your invoice")
        XCTAssertEqual(code, 250, text)
        let id = String(text.split(separator: " ").last!)
        XCTAssertTrue(waitUntil(20) { (try? b.cli(["quarantine", "list"]).1.contains(id)) == true }, "listed on B")
        (status, out, err) = try b.cli(["quarantine", "release", id])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("asked a.sluice.test"), out)
        XCTAssertNotNil(stored(in: a.root + "/var/sink", containing: "Subject: your invoice"), "released from B, delivered by A")
        XCTAssertTrue(waitUntil(20) { (try? b.cli(["quarantine", "list"]).1.contains("Quarantine is empty")) == true })

        // Both nodes report; then B is given different rules: drift, and check --cluster fails.
        XCTAssertTrue(waitUntil(20) { (try? b.cli(["cluster", "status"]).1.contains("2 node(s) up, no drift")) == true }, "both nodes up, no drift")
        (status, out, err) = try a.cli(["check", "--cluster"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("no drift"), out)
        try b.writeRules(Self.rules + "\n  - name: extra\n    when: [ { subject: { contains: extra } } ]\n    then: [ { reject: { code: 554, status: 5.7.1, message: no } } ]\n")
        XCTAssertTrue(waitUntil(30) { (try? a.cli(["check", "--cluster"]).0) == 1 }, "drift fails check --cluster")
        (status, out, err) = try a.cli(["check", "--cluster"])
        XCTAssertTrue(err.contains("rules differs"), err)
        (_, out, _) = try a.cli(["cluster", "status", "--json"])
        XCTAssertTrue(out.contains("\"drift\""), out)
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(b.stop(), 0)
    }

    /// One node on SQLite moves to PostgreSQL: `storage copy`, then `backend: postgres`; its devices keep their secrets,
    /// its archive stays searchable, its quarantine listed, its key signing.
    func testANodeCopiesItsEmbeddedStateIntoTheSharedStore() throws {
        let pg: PostgresInstance
        do { pg = try PostgresInstance() } catch let e as PostgresUnavailable { throw XCTSkip("\(e)") }
        defer { pg.stop() }
        try pg.createDatabase("sluice")
        let kek = pg.directory + "/kek"
        XCTAssertEqual(try runTool(DaemonProcess.binary, ["archive", "keygen", "--out", kek]).0, 0)
        let a = try node(
            "a", pg, database: "sluice",
            extra: "archives: { main: { retention: 30d } }\ndkim:\n  - { domain: example.test, selector: s1, algorithm: ed25519-sha256, state: active }",
            postgres: ", kek_file: \(kek)")
        try a.writeRules(Self.rules.replacingOccurrences(of: "then: [ { store: var/sink } ]", with: "then: [ { archive: main }, { store: var/sink } ]"))
        try String(contentsOfFile: a.configPath, encoding: .utf8).replacingOccurrences(of: "backend: postgres", with: "backend: sqlite")
            .write(toFile: a.configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try a.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1", "--algorithm", "ed25519"]).0, 0)
        var (status, out, err) = try a.cli(["creds", "add", "app", "--name", "web", "--allow-from", "example.test", "--json"])
        XCTAssertEqual(status, 0, err)
        let secret = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["secret"] as? String)
        try a.start()
        XCTAssertEqual(try relay(a, subject: "quarterly falcon report").0, 250)
        let (held, heldText) = try relay(a, subject: "your invoice")
        XCTAssertEqual(held, 250)
        let heldID = String(heldText.split(separator: " ").last!)
        XCTAssertTrue(waitUntil(20) { (try? a.cli(["archive", "search", "--text", "falcon"]).1.contains("falcon")) == true })
        XCTAssertEqual(a.stop(), 0)

        (status, out, err) = try a.cli(["storage", "copy", "--from", "sqlite", "--to", "postgres"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("run `sluice storage migrate --backend postgres`"), err)
        XCTAssertEqual(try a.cli(["storage", "migrate", "--backend", "postgres"]).0, 0)
        (status, out, err) = try a.cli(["storage", "copy", "--from", "sqlite", "--to", "postgres"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("1 credential(s) added"), out)
        XCTAssertTrue(out.contains("archive: 1 message(s) copied"), out)
        XCTAssertTrue(out.contains("quarantine index: 1 held message(s)"), out)
        XCTAssertTrue(out.contains("s1._domainkey.example.test active"), out)
        (status, out, err) = try a.cli(["storage", "copy", "--from", "sqlite", "--to", "postgres"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("0 credential(s) added"), "a second copy adds nothing: \(out)")

        try String(contentsOfFile: a.configPath, encoding: .utf8).replacingOccurrences(of: "backend: sqlite", with: "backend: postgres")
            .write(toFile: a.configPath, atomically: true, encoding: .utf8)
        try a.start()
        XCTAssertEqual(try login(a, "app", secret).0, 235, "the device keeps its secret")
        (status, out, err) = try a.cli(["archive", "search", "--text", "falcon", "--json"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("quarterly falcon report"), out)
        XCTAssertTrue(try a.cli(["quarantine", "list"]).1.contains(heldID))
        XCTAssertEqual(try relay(a, subject: "signed from the shared store").0, 250)
        let signed = try XCTUnwrap(stored(in: a.root + "/var/sink", containing: "Subject: signed from the shared store"))
        XCTAssertTrue(signed.contains("s=s1;"), signed)
        XCTAssertEqual(a.stop(), 0)
    }

    func testTwoNodesShareCredentialsLimitsAndQuarantineAndRideOutTheDatabaseDown() throws {
        let pg: PostgresInstance
        do { pg = try PostgresInstance() } catch let e as PostgresUnavailable { throw XCTSkip("\(e)") }
        defer { pg.stop() }
        try pg.createDatabase("sluice")
        let a = try node("a", pg, database: "sluice")
        let b = try node("b", pg, database: "sluice")

        // Not migrated: check says what to run; migrate applies, then has nothing to do.
        var (status, out, err) = try a.cli(["check"])
        XCTAssertEqual(status, 1, out + err)
        XCTAssertTrue(err.contains("the schema is at version 0, this sluice needs") && err.contains("sluice storage migrate"), err)
        (status, out, err) = try a.cli(["storage", "migrate"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("applied v1"), out)
        (status, out, err) = try b.cli(["storage", "migrate"])
        XCTAssertTrue(out.contains("nothing to do"), out + err)
        (status, out, err) = try b.cli(["check"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("the schema is at version") && out.contains(", ok"), out)
        XCTAssertFalse((out + err).contains(pg.password), "check never shows the password")
        try a.start()
        try b.start()

        // A credential made through A works on B; revoked through B, A refuses it at the next AUTH.
        (status, out, err) = try a.cli(["creds", "add", "app", "--name", "web", "--allow-from", "example.test", "--json"])
        XCTAssertEqual(status, 0, err)
        let secret = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["secret"] as? String)
        XCTAssertEqual(try login(b, "app", secret).0, 235)
        let listed = try b.cli(["creds", "list"]).1
        XCTAssertTrue(listed.contains("web"), listed)

        // The per-user limit of 10 messages a minute holds across both nodes (sessions alternate).
        var accepted = 0
        var refusal = ""
        for i in 0..<14 {
            let (code, _, c) = try login(i % 2 == 0 ? a : b, "app", secret)
            XCTAssertEqual(code, 235)
            let (sent, text) = try send(c, subject: "note \(i)")
            if sent == 250 { accepted += 1 } else { refusal = "\(sent) \(text)" }
        }
        XCTAssertEqual(accepted, 10, "a limit of 10 per minute across two nodes")
        XCTAssertTrue(refusal.hasPrefix("451 4.7.1 Rate limit exceeded"), refusal)

        // A message quarantined on A is listed from B, with the node holding it.
        let relay = try TestSMTPClient(port: a.port("relay"))
        _ = try relay.reply()
        _ = try relay.command("EHLO client.test")
        let (code, text) = try send(relay, subject: "your invoice")
        XCTAssertEqual(code, 250, text)
        let id = String(text.split(separator: " ").last!)
        XCTAssertTrue(waitUntil(20) { (try? b.cli(["quarantine", "list"]).1.contains(id)) == true }, "quarantined on A, listed on B")
        let shown = try b.cli(["quarantine", "list", "--json"]).1
        XCTAssertTrue(shown.contains("a.sluice.test"), shown)

        (status, out, err) = try b.cli(["creds", "revoke", "app", "--name", "web"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(try login(a, "app", secret).0, 535, "revoked through B, refused by A")

        // The database down: AUTH is a temporary failure, relayed mail keeps flowing (the queue is the node's own).
        (status, out, err) = try a.cli(["creds", "add", "app", "--name", "web2", "--json"])
        XCTAssertEqual(status, 0, err)
        let second = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["secret"] as? String)
        let before = (try? FileManager.default.contentsOfDirectory(atPath: b.root + "/var/sink"))?.count ?? 0
        pg.stop()
        let (down, downText, _) = try login(a, "app", second)
        XCTAssertEqual(down, 454, downText)
        XCTAssertTrue(downText.hasPrefix("4.7.0"), downText)
        let during = try TestSMTPClient(port: b.port("relay"))
        _ = try during.reply()
        _ = try during.command("EHLO client.test")
        XCTAssertEqual(try send(during, subject: "while the database is down").0, 250)
        XCTAssertEqual(DaemonProcess.waitForFiles(in: b.root + "/var/sink", count: before + 1).count, before + 1, "delivered with the database down")
        XCTAssertFalse(a.log().contains(pg.password), "the log never shows the password")

        try pg.start()
        XCTAssertTrue(waitUntil(60) { (try? self.login(a, "app", second).0) == 235 }, "AUTH works again once the database is back")
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(b.stop(), 0)
    }
}
