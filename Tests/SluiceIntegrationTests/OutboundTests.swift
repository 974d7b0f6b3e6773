// Direct MX delivery against a local DNS server with fixture records, pool
// failover and recovery counted by Message-ID, and AUTH to an upstream. The
// next hops are further Sluice daemons (real SMTP servers) on loopback.

import Foundation
import SluiceTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A port nobody listens on right now.
func freeLoopbackPort() -> Int { freeLoopbackPortForTests() }

/// A Sluice that accepts anything on ADDRESS:PORT without TLS and stores it in its outbox.
func sinkDaemon(address: String = "127.0.0.1", port: Int, extra: String = "") throws -> DaemonProcess {
    try DaemonProcess(yaml: """
        networks: { trusted: [127.0.0.0/8] }
        listeners:
          - { name: relay, address: "\(address):\(port)", tls: starttls }
        \(extra)
        """)
}

func messageIDs(_ sinks: [DaemonProcess]) -> [String] {
    sinks.flatMap { sink in
        sink.outboxFiles().compactMap { name -> String? in
            let text = String(decoding: FileManager.default.contents(atPath: sink.outbox + "/" + name) ?? Data(), as: UTF8.self)
            return text.split(separator: "\r\n").first { $0.hasPrefix("Message-ID: ") }.map { String($0.dropFirst(12)) }
        }
    }
}

func waitUntil(_ timeout: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

final class MXDeliveryTests: XCTestCase {
    static let zone = """
        $ORIGIN test.
        $TTL 60
        pref.test.          IN MX 20 mx-b.pref.test.
        pref.test.          IN MX 10 mx-a.pref.test.
        mx-a.pref.test.     IN A 127.0.0.1
        mx-b.pref.test.     IN A 127.0.0.2
        fallback.test.      IN MX 10 dead.fallback.test.
        fallback.test.      IN MX 20 live.fallback.test.
        dead.fallback.test. IN A 127.0.0.9
        live.fallback.test. IN A 127.0.0.1
        implicit.test.      IN A 127.0.0.1
        nullmx.test.        IN MX 0 .

        """

    func testPreferenceFallbackImplicitMXAndNullMX() throws {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let port = freeLoopbackPort()
        let best = try sinkDaemon(port: port)
        let second = try sinkDaemon(address: "127.0.0.2", port: port)
        try best.start()
        try second.start()
        let relay = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 5s }
            delivery: { send_port: \(port), retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ send ]\n")
        try relay.start()

        for (i, to) in ["u@pref.test", "u@fallback.test", "u@implicit.test", "u@nullmx.test"].enumerated() {
            let r = try TestSMTPClient.sendMessage(
                port: relay.port(), from: "app@implicit.test", to: to,
                message: "From: app@implicit.test\r\nMessage-ID: <mx-\(i)@test>\r\nSubject: mx \(i)\r\n\r\nhello\r\n")
            XCTAssertEqual(r.code, 250)
        }
        // Three messages and the DSN for the null MX recipient (to app@implicit.test) reach the best MX.
        XCTAssertTrue(waitUntil(30) { best.outboxFiles().count == 4 }, relay.log())
        XCTAssertEqual(Set(messageIDs([best]).filter { $0.hasPrefix("<mx-") }), ["<mx-0@test>", "<mx-1@test>", "<mx-2@test>"])
        XCTAssertEqual(second.outboxFiles().count, 0, "the less preferred MX must not get mail while the best one answers")
        let dsn = best.outboxFiles().map { String(decoding: FileManager.default.contents(atPath: best.outbox + "/" + $0)!, as: UTF8.self) }
            .first { $0.contains("multipart/report") }
        XCTAssertNotNil(dsn)
        XCTAssertTrue(dsn?.contains("5.1.10") ?? false, dsn ?? "")
        XCTAssertTrue(relay.log().contains("127.0.0.9"), "the dead MX was tried first")
        XCTAssertTrue(relay.log().contains("dead.fallback.test"), relay.log())
    }

    func testDNSFailureIsRetriedNotBounced() throws {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let relay = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 2s }
            delivery: { retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ send ]\n")
        try relay.start()
        let r = try TestSMTPClient.sendMessage(port: relay.port(), from: "app@example.test", to: "u@x.servfail.test", message: "Subject: s\r\n\r\nhi\r\n")
        XCTAssertEqual(r.code, 250)
        XCTAssertTrue(relay.waitForLog("4.4.3"), relay.log())
        XCTAssertTrue(relay.waitForLog("\"event\":\"deferred\""))
        XCTAssertFalse(relay.log().contains("\"event\":\"failed\""))
    }
}

final class FailoverTests: XCTestCase {
    func send(_ relay: DaemonProcess, ids: Range<Int>) throws {
        for i in ids {
            let r = try TestSMTPClient.sendMessage(
                port: relay.port(), from: "app@example.test", to: "u@example.org",
                message: "From: app@example.test\r\nMessage-ID: <fo-\(i)@test>\r\nSubject: \(i)\r\n\r\nhello\r\n")
            XCTAssertEqual(r.code, 250)
        }
    }

    func testBackupTakesOverAndTrafficMovesBack() throws {
        let (p1, p2, p3) = (freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort())
        let a1 = try sinkDaemon(port: p1)
        let a2 = try sinkDaemon(port: p2)
        let backup = try sinkDaemon(port: p3)
        for s in [a1, a2, backup] { try s.start() }
        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(p1)", "127.0.0.1:\(p2)"], tls: opportunistic, backup: second, probe_interval: 1s }
              second: { hosts: ["127.0.0.1:\(p3)"], tls: opportunistic }
            delivery: { retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        let all = [a1, a2, backup]

        // 1. Both primaries up: they share the load, the backup gets nothing.
        try send(relay, ids: 0..<6)
        XCTAssertTrue(waitUntil { messageIDs(all).count == 6 }, relay.log())
        XCTAssertEqual(backup.outboxFiles().count, 0)
        XCTAssertGreaterThan(a1.outboxFiles().count, 0)
        XCTAssertGreaterThan(a2.outboxFiles().count, 0)

        // 2. Both primaries down: the backup pool takes the traffic.
        a1.stop()
        a2.stop()
        try send(relay, ids: 6..<12)
        XCTAssertTrue(waitUntil { backup.outboxFiles().count == 6 }, relay.log())
        XCTAssertTrue(relay.waitForLog("upstream host resting"), relay.log())

        // 3. One primary back: the probe finds it and traffic moves back to it.
        try a1.start()
        XCTAssertTrue(relay.waitForLog("upstream host healthy again", timeout: 20), relay.log())
        let before = a1.outboxFiles().count
        try send(relay, ids: 12..<18)
        XCTAssertTrue(waitUntil { a1.outboxFiles().count == before + 6 }, relay.log())
        XCTAssertEqual(backup.outboxFiles().count, 6)

        // Nothing lost, nothing twice.
        let ids = messageIDs(all)
        XCTAssertEqual(ids.count, 18, "\(ids.sorted())")
        XCTAssertEqual(Set(ids), Set((0..<18).map { "<fo-\($0)@test>" }))
    }
}

final class UpstreamAuthTests: XCTestCase {
    func testAuthenticatesToTheUpstreamWithThePasswordFromAFile() throws {
        let sink = try DaemonProcess(yaml: """
            networks: { trusted: [192.0.2.0/24] }
            listeners:
              - { name: submission, address: "127.0.0.1:0", tls: starttls, auth: required }
            """)
        try sink.start()
        let (status, out, err) = try sink.cli(["creds", "add", "gateway", "--name", "relay1", "--allow-from", "example.test", "--json"])
        XCTAssertEqual(status, 0, err)
        let secret = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["secret"] as? String)

        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(sink.port("submission"))"], tls: opportunistic,
                         auth: { username: gateway, password_file: etc/upstream.secret } }
            delivery: { retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try (secret + "\n").write(toFile: relay.root + "/etc/upstream.secret", atomically: true, encoding: .utf8)
        chmod(relay.root + "/etc/upstream.secret", 0o600)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        let r = try TestSMTPClient.sendMessage(
            port: relay.port(), from: "app@example.test", to: "u@example.org",
            message: "From: app@example.test\r\nSubject: authed\r\n\r\nhello\r\n")
        XCTAssertEqual(r.code, 250)
        let file = String(decoding: try XCTUnwrap(sink.waitForOutbox(count: 1).first), as: UTF8.self)
        XCTAssertTrue(file.contains("with ESMTPSA"), file)  // authenticated, over TLS
        XCTAssertFalse(relay.log().contains(secret), "the password must never be logged")
        XCTAssertFalse(sink.log().contains(secret))
    }
}

final class RetryAcrossRestartTests: XCTestCase {
    /// A message deferred before a restart keeps its attempts and is retried by the new process.
    func testRestartInTheMiddleOfARetryScheduleResumesIt() throws {
        let port = freeLoopbackPort()
        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(port)"], tls: none }
            delivery: { retry_schedule: [1s, 2s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        let r = try TestSMTPClient.sendMessage(
            port: relay.port(), from: "app@example.test", to: "u@example.org",
            message: "From: app@example.test\r\nMessage-ID: <restart-1@test>\r\nSubject: later\r\n\r\nhello\r\n")
        XCTAssertEqual(r.code, 250)
        XCTAssertTrue(waitUntil { relay.log().components(separatedBy: "\"event\":\"deferred\"").count > 2 }, relay.log())
        XCTAssertEqual(relay.stop(), 0)
        let (_, shown, _) = try relay.cli(["queue", "list", "--json"])
        XCTAssertTrue(shown.contains("\"deferred\""), shown)

        let sink = try sinkDaemon(port: port)
        try sink.start()
        try relay.start()
        let file = String(decoding: try XCTUnwrap(sink.waitForOutbox(count: 1, timeout: 20).first), as: UTF8.self)
        XCTAssertTrue(file.contains("Message-ID: <restart-1@test>"))
        XCTAssertTrue(relay.waitForLog("\"event\":\"removed\""), relay.log())
        let (_, after, _) = try relay.cli(["queue", "list", "--json"])
        XCTAssertFalse(after.contains("restart") || after.contains("\"deferred\""), after)
        XCTAssertEqual(messageIDs([sink]), ["<restart-1@test>"])
    }
}

final class ConnectionReuseTests: XCTestCase {
    /// Messages to the same upstream one after another travel over one connection.
    func testOneConnectionCarriesSeveralMessages() throws {
        let port = freeLoopbackPort()
        let sink = try sinkDaemon(port: port)
        try sink.start()
        let relay = try DaemonProcess(yaml: """
            upstreams:
              primary: { hosts: ["127.0.0.1:\(port)"], tls: opportunistic }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ { relay: primary } ]\n")
        try relay.start()
        for i in 0..<5 {
            let r = try TestSMTPClient.sendMessage(
                port: relay.port(), from: "app@example.test", to: "u@example.org",
                message: "From: app@example.test\r\nMessage-ID: <reuse-\(i)@test>\r\nSubject: \(i)\r\n\r\nhello\r\n")
            XCTAssertEqual(r.code, 250)
            XCTAssertTrue(waitUntil { sink.outboxFiles().count == i + 1 }, relay.log())
        }
        XCTAssertEqual(Set(messageIDs([sink])), Set((0..<5).map { "<reuse-\($0)@test>" }))
        let connects = sink.log().components(separatedBy: "\"event\":\"connect\"").count - 1
        XCTAssertEqual(connects, 1, "one connection for five messages: \(sink.log())")
        // Every copy went over TLS, including those on the reused connection.
        for name in sink.outboxFiles() {
            let text = String(decoding: FileManager.default.contents(atPath: sink.outbox + "/" + name)!, as: UTF8.self)
            XCTAssertTrue(text.contains("with ESMTPS"), text)
        }
    }
}
