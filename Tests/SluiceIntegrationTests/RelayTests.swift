// Relaying to upstream pools: a second Sluice is the next hop (a real SMTP
// server with STARTTLS). Delivered bytes are identical, opportunistic TLS is
// used, a dead primary fails over to the backup pool, mixed recipient results
// are kept apart, and an unreachable upstream is retried until it comes back.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class RelayTests: XCTestCase {
    func freePort() -> Int { freeLoopbackPort() }

    func relayDaemon(upstreams: String, extra: String = "") throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            upstreams:
            \(upstreams)
            delivery: { retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            \(extra)
            """)
        try d.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        return d
    }

    func send(_ port: Int, to: [String], body: String) throws -> Int {
        let c = try TestSMTPClient(port: port)
        _ = try c.reply()
        _ = try c.command("EHLO app.test")
        _ = try c.command("MAIL FROM:<app@example.test> BODY=8BITMIME")
        for r in to { XCTAssertEqual(try c.command("RCPT TO:<\(r)>").code, 250) }
        _ = try c.command("DATA")
        try c.write(body + ".\r\n")
        return try c.reply().code
    }

    /// Issue 20: `sluice status` shows each upstream host's health with its last error, the queue by state and
    /// the admin address.
    func testStatusShowsUpstreamHealthQueueStatesAndAdminAddress() throws {
        let dead = freePort()
        let relay = try relayDaemon(upstreams: """
              primary: { hosts: ["127.0.0.1:\(dead)"], tls: none }
            """)
        try relay.start()
        XCTAssertEqual(try send(relay.port(), to: ["x@example.org"], body: "From: app@example.test\r\nSubject: s\r\n\r\nbody\r\n"), 250)
        XCTAssertEqual(try send(relay.port(), to: ["y@example.org"], body: "From: app@example.test\r\nSubject: s\r\n\r\nbody\r\n"), 250)
        func status() -> [String: Any]? {
            guard let (code, out, _) = try? relay.cli(["status", "--json"]), code == 0 else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        }
        func upstream() -> [String: Any]? { (status()?["upstreams"] as? [[String: Any]])?.first }
        XCTAssertTrue(waitUntil { (upstream()?["failures"] as? Int ?? 0) >= 1 && (status()?["queue"] as? [String: Any]).flatMap { ($0["by_state"] as? [String: Int])?["deferred"] } == 2 }, "\(String(describing: status()))")
        let u = try XCTUnwrap(upstream())
        XCTAssertEqual(u["pool"] as? String, "primary")
        XCTAssertEqual(u["host"] as? String, "127.0.0.1:\(dead)")
        XCTAssertTrue((u["last_error"] as? String ?? "").contains("451"), "\(u)")
        let json = try XCTUnwrap(status())
        let admin = try XCTUnwrap(json["admin"] as? String)
        XCTAssertTrue(admin.hasPrefix("127.0.0.1:") && !admin.hasSuffix(":0"), admin)
        let (_, list, _) = try relay.cli(["queue", "list", "--json"])
        let first = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [String: Any])?["messages"] as? [[String: Any]])?.first?["id"] as? String)
        XCTAssertEqual(try relay.cli(["queue", "hold", first]).0, 0)
        let (code, table, err) = try relay.cli(["status"])
        XCTAssertEqual(code, 0, err)
        XCTAssertTrue(table.contains("admin: http://\(admin)"), table)
        XCTAssertTrue(table.contains("1 deferred, 1 held"), table)
        XCTAssertTrue(table.contains("primary") && table.contains("127.0.0.1:\(dead)") && table.contains("451"), table)
    }

    /// Issue 20: queue verbs take filters like mailq/postsuper (--state, --from, --to-domain, --older), bulk
    /// delete needs --yes, and `queue summary` counts by destination domain and age like qshape.
    func testQueueFiltersBulkOperationsAndSummary() throws {
        let dead = freePort()
        let relay = try relayDaemon(upstreams: """
              primary: { hosts: ["127.0.0.1:\(dead)"], tls: none }
            """)
        try relay.start()
        for to in ["a@alpha.test", "b@beta.test", "c@mail.beta.test"] {
            XCTAssertEqual(try send(relay.port(), to: [to], body: "From: app@example.test\r\nSubject: q\r\n\r\nbody\r\n"), 250)
        }
        func ids(_ args: [String]) throws -> [String] {
            let (code, out, err) = try relay.cli(["queue", "list", "--json"] + args)
            XCTAssertEqual(code, 0, err)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            return (json["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        XCTAssertTrue(waitUntil { (try? ids(["--state", "deferred"]).count) == 3 }, relay.log())
        // A listing row (written from the listing record) says what `queue show --json` (the full entry) says.
        let (_, listed, _) = try relay.cli(["queue", "list", "--json"])
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [String: Any])?["messages"] as? [[String: Any]])
        for row in rows {
            let (_, shown, _) = try relay.cli(["queue", "show", try XCTUnwrap(row["id"] as? String), "--json"])
            var full = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: Any])
            // `show` also says what each route's last attempt did; the rest is the listing.
            XCTAssertEqual((full.removeValue(forKey: "delivery") as? [Any])?.count, (row["routes"] as? [Any])?.count)
            XCTAssertEqual(NSDictionary(dictionary: row), NSDictionary(dictionary: full), "\(row)\n\(full)")
        }
        XCTAssertEqual(try ids(["--to-domain", "beta.test"]).count, 2, "a domain and its subdomains")
        XCTAssertEqual(try ids(["--to-domain", "alpha.test", "--from", "APP@example"]).count, 1)
        XCTAssertEqual(try ids(["--older", "1h"]).count, 0)
        XCTAssertEqual(try ids(["--state", "held"]).count, 0)

        let (hold, holdOut, holdErr) = try relay.cli(["queue", "hold", "--to-domain", "beta.test"])
        XCTAssertEqual(hold, 0, holdErr)
        XCTAssertTrue(holdOut.contains("held 2 message(s)"), holdOut)
        XCTAssertEqual(try ids(["--state", "held"]).count, 2)
        XCTAssertNotEqual(try relay.cli(["queue", "list", "--state", "nonsense"]).0, 0)

        let (_, summary, _) = try relay.cli(["queue", "summary"])
        XCTAssertTrue(summary.contains("TOTAL") && summary.contains("beta.test") && summary.contains("alpha.test"), summary)
        let (_, summaryJSON, _) = try relay.cli(["queue", "summary", "--json"])
        let shape = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(summaryJSON.utf8)) as? [String: Any])
        XCTAssertEqual((shape["total"] as? [String: Any])?["total"] as? Int, 3)
        XCTAssertEqual(((shape["total"] as? [String: Any])?["by_age_minutes"] as? [String: Int])?["5"], 3, "all younger than 5 minutes")

        let (noYes, _, noYesErr) = try relay.cli(["queue", "delete", "--state", "held"])
        XCTAssertNotEqual(noYes, 0)
        XCTAssertTrue(noYesErr.contains("--yes"), noYesErr)
        let (del, delOut, _) = try relay.cli(["queue", "delete", "--state", "held", "--yes"])
        XCTAssertEqual(del, 0)
        XCTAssertTrue(delOut.contains("deleted 2 message(s)"), delOut)
        XCTAssertEqual(try ids([]).count, 1)
        let (rel, relOut, _) = try relay.cli(["queue", "release", "--state", "held"])
        XCTAssertEqual(rel, 0)
        XCTAssertTrue(relOut.contains("released 0 message(s)"), relOut)
    }

    func testRelayToUpstreamWithTLSAndFailover() throws {
        let sink = try DaemonProcess()
        try sink.start()
        let dead = freePort()
        let relay = try relayDaemon(upstreams: """
              primary: { hosts: ["127.0.0.1:\(dead)"], tls: opportunistic, backup: second }
              second: { hosts: ["127.0.0.1:\(sink.port())"], tls: opportunistic }
            """)
        try relay.start()
        let body = "From: app@example.test\r\nSubject: relayed\r\nMessage-ID: <relay-1@test>\r\n\r\nGrüße\r\n..dot\r\n"
        XCTAssertEqual(try send(relay.port(), to: ["x@example.org", "y@example.net"], body: body), 250)
        let file = String(decoding: try XCTUnwrap(sink.waitForOutbox(count: 1).first), as: UTF8.self)
        let files = [file]
        // Two Received headers (sink's, then the relay's), then the bytes as sent (dots unstuffed again).
        let parts = files[0].components(separatedBy: "Received: ")
        XCTAssertEqual(parts.count, 3, files[0])
        XCTAssertTrue(files[0].hasSuffix(body.replacingOccurrences(of: "\r\n..dot", with: "\r\n.dot")), files[0])
        XCTAssertTrue(parts[1].contains("with ESMTPS"), parts[1])  // opportunistic STARTTLS to the sink
        XCTAssertTrue(relay.waitForLog("\"event\":\"delivered\""))
        // The attempt's line says where it went, what the transport did (TLS 1.3 and its cipher) and what the far end said.
        XCTAssertTrue(
            relay.log().split(separator: "\n").contains {
                $0.contains("\"event\":\"delivered\"") && $0.contains("\"remote\":\"127.0.0.1:\(sink.port())\"")
                    && $0.contains("\"transport\":\"TLSv1.3 TLS_") && $0.contains("\"reply\":\"250 2.0.0 Ok: queued as")
            }, relay.log())
    }

    func testMixedRecipientsAndRetryUntilTheUpstreamReturns() throws {
        // The next hop accepts only ok.test from us (loopback is not trusted there).
        let port = freePort()
        let sink = try DaemonProcess(yaml: """
            networks: { trusted: [192.0.2.0/24] }
            local_domains: [ok.test]
            listeners:
              - { name: relay, address: "127.0.0.1:\(port)", tls: none }
            """)
        let relay = try relayDaemon(upstreams: """
              primary: { hosts: ["127.0.0.1:\(port)"], tls: opportunistic }
            """)
        try relay.start()
        XCTAssertEqual(try send(relay.port(), to: ["a@ok.test", "b@elsewhere.test"], body: "Subject: mixed\r\n\r\nhi\r\n"), 250)
        // Nobody listens yet: deferred, retried every second.
        XCTAssertTrue(relay.waitForLog("\"event\":\"deferred\""), relay.log())
        try sink.start()
        let files = sink.waitForOutbox(count: 1, timeout: 30)
        XCTAssertTrue(String(decoding: files.first ?? Data(), as: UTF8.self).contains("Subject: mixed"))
        XCTAssertTrue(relay.waitForLog("\"event\":\"failed\""), relay.log())
        let lines = relay.log().split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("\"event\":\"delivered\"") && $0.contains("a@ok.test") && !$0.contains("b@elsewhere.test") })
        XCTAssertTrue(lines.contains { $0.contains("\"event\":\"failed\"") && $0.contains("b@elsewhere.test") && $0.contains("550 5.7.1") })
        XCTAssertTrue(relay.waitForLog("\"event\":\"removed\""))
    }
}

final class BounceTests: XCTestCase {
    func testOneDSNForRecipientsThatFailForGood() throws {
        let sink = try DaemonProcess(yaml: """
            networks: { trusted: [192.0.2.0/24] }
            local_domains: [ok.test]
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
            """)
        try sink.start()
        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(sink.port())"], tls: none }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        let c = try TestSMTPClient(port: relay.port())
        _ = try c.reply()
        _ = try c.command("EHLO app.test")
        XCTAssertEqual(try c.command("MAIL FROM:<app@ok.test> RET=HDRS ENVID=env-42").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<a@ok.test>").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<b@elsewhere.test> ORCPT=rfc822;b@elsewhere.test").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<quiet@elsewhere.test> NOTIFY=NEVER").code, 250)
        _ = try c.command("DATA")
        try c.write("From: app@ok.test\r\nSubject: will partly bounce\r\n\r\nsecret body\r\n.\r\n")
        XCTAssertEqual(try c.reply().code, 250)
        // The sink gets the message for a@ok.test, then exactly one DSN back to app@ok.test.
        let files = sink.waitForOutbox(count: 2, timeout: 20)
        XCTAssertTrue(relay.waitForLog("\"event\":\"bounced\""), relay.log())
        // Once the relay's queue is empty, everything it will send has arrived: exactly the message and one DSN.
        XCTAssertTrue(waitUntil { (try? FileManager.default.contentsOfDirectory(atPath: relay.queueDir + "/active"))?.isEmpty ?? false })
        XCTAssertEqual(sink.outboxFiles().count, 2)
        let texts = files.map { String(decoding: $0, as: UTF8.self) }
        let dsn = try XCTUnwrap(texts.first { $0.contains("multipart/report") })
        XCTAssertTrue(dsn.contains("Original-Envelope-Id: env-42"), dsn)
        XCTAssertTrue(dsn.contains("Original-Recipient: rfc822; b@elsewhere.test"), dsn)
        XCTAssertFalse(dsn.contains("quiet@elsewhere.test"), "NOTIFY=NEVER must not be reported")
        XCTAssertFalse(dsn.contains("secret body"), "RET=HDRS returns headers only")
        XCTAssertTrue(dsn.contains("Subject: will partly bounce"))
        guard let python = which("python3") else { throw XCTSkip("python3 not installed; make test installs it") }
        let name = try XCTUnwrap(sink.outboxFiles().first { String(decoding: FileManager.default.contents(atPath: sink.outbox + "/" + $0)!, as: UTF8.self).contains("multipart/report") })
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop/dsn_check.py").standardizedFileURL.path
        let (status, out, err) = try runTool(python, [script, sink.outbox + "/" + name, "b@elsewhere.test", "5.7.1"])
        XCTAssertEqual(status, 0, out + err)
        XCTAssertTrue(out.hasPrefix("ok 1 recipient"), out)
    }
}

extension BounceTests {
    func testBounceRuleSendsADSNInsteadOfDelivering() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try """
            rules:
              - name: gone
                when: [ { recipient: { domain: gone.test } } ]
                then: [ { bounce: { code: 550, status: 5.1.1, message: "This mailbox has moved" } } ]
              - name: rest
                then: [ { store: var/outbox } ]
            """.write(toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        try d.start()
        let r = try TestSMTPClient.sendMessage(port: d.port(), from: "app@example.test", to: "old@gone.test", message: "Subject: hello\r\n\r\nhi\r\n")
        XCTAssertEqual(r.code, 250)
        let files = d.waitForOutbox(count: 1)
        let dsn = String(decoding: try XCTUnwrap(files.first), as: UTF8.self)
        XCTAssertTrue(dsn.contains("multipart/report") && dsn.contains("This mailbox has moved"), dsn)
        guard let python = which("python3") else { throw XCTSkip("python3 not installed; make test installs it") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop/dsn_check.py").standardizedFileURL.path
        let (status, out, err) = try runTool(python, [script, d.outbox + "/" + d.outboxFiles()[0], "old@gone.test", "5.1.1"])
        XCTAssertEqual(status, 0, out + err)
    }
}

final class RelayTLSTests: XCTestCase {
    func testRequiredTLSRefusesAnUnverifiableUpstream() throws {
        // The sink's certificate is self-signed: with tls: required nothing is sent to it.
        let sink = try DaemonProcess()
        try sink.start()
        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(sink.port())"], tls: required }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        let r = try TestSMTPClient.sendMessage(port: relay.port(), message: "Subject: secret\r\n\r\nhi\r\n")
        XCTAssertEqual(r.code, 250)
        // The attempt is over when it is logged as deferred; nothing reached the sink (retries are an hour away).
        XCTAssertTrue(relay.waitForLog("\"event\":\"deferred\""), relay.log())
        XCTAssertEqual(sink.outboxFiles().count, 0)
        XCTAssertTrue(relay.log().contains("CERTIFICATE_VERIFY_FAILED"), relay.log())
    }
}
