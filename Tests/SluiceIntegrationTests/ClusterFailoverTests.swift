// Two nodes behind a real HAProxy (PROXY protocol v2, health checks on
// /readyz) sharing one PostgreSQL, relaying to one sink, as deploy/cluster
// runs them. Node A killed (-9) mid-load: HAProxy sends new sessions to B,
// and A's queued mail leaves when A restarts. PostgreSQL stopped: mail keeps
// being accepted and relayed, and the archive catches up when it is back.
// Every message answered 250 reaches the sink: 0 lost.

import Foundation
import SluiceTestSupport
import XCTest

final class ClusterFailoverTests: XCTestCase {
    static let sinkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../bench/fault_sink.py").standardizedFileURL.path

    func node(_ name: String, _ pg: PostgresInstance, sinkPort: Int, dns: Int) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            hostname: \(name).sluice.test
            dns: { nameserver: "127.0.0.1:\(dns)", timeout: 2s }
            networks: { trusted: [127.0.0.1/32] }
            upstreams:
              sink: { hosts: ["127.0.0.1:\(sinkPort)"], tls: none }
            archives:
              main: { retention: 30d }
            delivery: { retry_schedule: [1s] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default, proxy_protocol: true, proxy_from: [127.0.0.1/32] }
            storage:
              backend: postgres
              postgres: { url: "\(pg.url("sluice"))", password_file: "\(pg.passwordFile)", timeout: 2s, refresh: 500ms }
            """)
        try d.writeRules("""
            rules:
              - name: everything
                then:
                  - archive: main
                  - relay: sink
            """)
        return d
    }

    /// Sends one message through HAProxy; true when it was answered 250.
    func send(_ port: Int, _ id: String) -> Bool {
        let message = "From: app@example.test\r\nTo: x@example.org\r\nSubject: load \(id)\r\nMessage-ID: <\(id)@load.test>\r\n\r\nbody \(id)\r\n"
        guard let r = try? TestSMTPClient.sendMessage(port: port, from: "app@example.test", to: "x@example.org", message: message) else { return false }
        return r.code == 250
    }

    /// Sends each message until it is accepted (a session cut by a dying node is sent again); returns the ids accepted.
    func load(_ port: Int, _ ids: [String], during: (Int) -> Void = { _ in }) -> [String] {
        var accepted: [String] = []
        for (i, id) in ids.enumerated() {
            during(i)
            for _ in 0..<10 where !accepted.contains(id) {
                if send(port, id) { accepted.append(id) }
            }
        }
        return accepted
    }

    func testANodeKilledMidLoadAndTheDatabaseDownLoseNothing() throws {
        guard which("python3") != nil else { throw XCTSkip("python3 not installed; make test installs it") }
        let pg: PostgresInstance
        do { pg = try PostgresInstance() } catch let e as PostgresUnavailable { throw XCTSkip("\(e)") }
        defer { pg.stop() }
        try pg.createDatabase("sluice")
        let dns = try FixtureDNSServer(zone: "")
        let sinkPort = freeLoopbackPortForTests()
        let a = try node("a", pg, sinkPort: sinkPort, dns: dns.port)
        let b = try node("b", pg, sinkPort: sinkPort, dns: dns.port)
        XCTAssertEqual(try a.cli(["storage", "migrate"]).0, 0)
        try a.start()
        try b.start()
        let proxy: HAProxyInstance
        do {
            proxy = try HAProxyInstance(backends: [
                .init(name: "a", smtpPort: a.port(), adminPort: a.port("admin")), .init(name: "b", smtpPort: b.port(), adminPort: b.port("admin")),
            ])
        } catch let e as HAProxyUnavailable { throw XCTSkip("\(e)") }
        defer { proxy.stop() }

        // The sink is down: accepted mail waits in each node's own queue. A is killed a third of the way in.
        let first = load(proxy.port, (0..<60).map { "m\($0)" }) { i in if i == 20 { a.kill9() } }
        XCTAssertEqual(first.count, 60, "every message accepted by a node that was up")
        XCTAssertTrue(b.log().contains("\"event\":\"queued\""), "B took sessions")

        // A comes back (its queue as it was at the kill), the sink comes up, and every queue drains.
        try a.start()
        let (_, held, _) = try a.cli(["queue", "list"])
        XCTAssertFalse(held.contains("Mail queue is empty"), "A kept the mail it had accepted before the kill")
        let received = NSTemporaryDirectory() + "sluice-sink-\(UUID().uuidString.prefix(8)).txt"
        _ = FileManager.default.createFile(atPath: received, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: received) }
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        sink.arguments = [Self.sinkScript, "\(sinkPort)", received, "0"]
        sink.standardOutput = FileHandle.nullDevice
        sink.standardError = FileHandle.nullDevice
        try sink.run()
        defer { terminateAndWait(sink) }
        XCTAssertTrue(waitUntil(20) { loopbackAccepts(sinkPort) })
        _ = try a.cli(["queue", "retry", "--all"])
        _ = try b.cli(["queue", "retry", "--all"])
        func delivered() -> Set<String> {
            let text = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
            return Set(text.split(separator: "\n").compactMap { line in line.range(of: "<").map { String(line[$0.upperBound...].prefix { $0 != "@" }) } })
        }
        XCTAssertTrue(waitUntil(90) { Set(first).isSubset(of: delivered()) }, "lost: \(Set(first).subtracting(delivered()).sorted())")

        // PostgreSQL down: mail is still accepted and relayed; the archive route waits in the queue.
        pg.stop()
        let down = Date()
        // For 20 s of outage, one message after another, each relayed before the next is sent.
        var second: [String] = []
        while Date().timeIntervalSince(down) < 20 && second.count < 5000 {
            let id = "p\(second.count)"
            let accepted = load(proxy.port, [id])
            XCTAssertEqual(accepted, [id], "accepted with the database down")
            guard accepted == [id] else { break }
            second.append(id)
            XCTAssertTrue(waitUntil(30) { delivered().contains(id) }, "relayed with the database down")
        }
        let archiveDeferred = waitUntil(30) {
            b.log().split(separator: "\n").contains { $0.contains("\"event\":\"deferred\"") && $0.contains("archive:main") }
        }
        XCTAssertTrue(archiveDeferred, "the archive delivery waits in the queue")
        let outage = Date().timeIntervalSince(down)
        try pg.start()
        let all = Set(first + second)
        XCTAssertTrue(all.isSubset(of: delivered()), "lost: \(all.subtracting(delivered()).sorted())")
        // The archive caught up: every message is searchable, from either node.
        let archived = waitUntil(60) {
            guard let (_, out, _) = try? b.cli(["archive", "search", "--archive", "main", "--limit", "1000", "--json"]) else { return false }
            return all.allSatisfy { out.contains("<\($0)@load.test>") }
        }
        XCTAssertTrue(archived, "the archive caught up after the database came back")
        print("cluster failover: \(all.count) accepted, \(all.count) delivered, A killed at 20 of 60, \(second.count) accepted and relayed during a \(Int(outage))s database outage")
        XCTAssertEqual(a.stop(), 0)
        XCTAssertEqual(b.stop(), 0)
    }
}
