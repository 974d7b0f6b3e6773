// Outbound connections that end properly (issue 33), against a real Postfix:
// when more deliveries finish at once than the idle pool keeps (60 queued
// messages retried at once, 30 connections allowed), the extra
// connections end with QUIT instead of being dropped, and so do idle ones
// when they time out: Postfix's disconnect statistics show quit=1 on every
// connection. With connection_reuse_limit: 0s no connection carries a second
// message; by default one connection carries both.

import Foundation
import Synchronization
import SluiceTestSupport
import XCTest

final class ConnectionEndTests: XCTestCase {
    /// A private Postfix, once the connection that saw it listening has ended in its log (it is not Sluice's).
    func postfix() throws -> PostfixInstance {
        let postfix = try startPostfix()
        XCTAssertTrue(waitUntil { postfix.log.contains("commands=0/0") }, postfix.log)
        return postfix
    }

    func startPostfix() throws -> PostfixInstance {
        do {
            return try PostfixInstance(mainCF: """
                mydestination = users.test
                local_recipient_maps =
                local_transport = discard:
                smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
                default_process_limit = 100
                """)
        } catch let e as PostfixUnavailable {
            throw XCTSkip("\(e)")
        }
    }

    func config(upstream port: Int, delivery: String) -> String {
        """
        upstreams:
          mx: { hosts: ["127.0.0.1:\(port)"], tls: none, max_connections: 30 }
        delivery: { retry_schedule: [1h], \(delivery) }
        listeners:
          - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
        """
    }

    func relay(to port: Int, delivery: String) throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: config(upstream: port, delivery: delivery))
        try d.writeRules("rules:\n  - name: out\n    then: [ { relay: mx } ]\n")
        try d.start()
        return d
    }

    /// Postfix's "disconnect from ..." lines: one per connection that ended (but the one that saw it listening).
    func disconnects(_ postfix: PostfixInstance) -> [String] {
        postfix.log.split(separator: "\n").filter { $0.contains("postfix/smtpd") && $0.contains("disconnect from") && !$0.contains("commands=0/0") }
            .map(String.init)
    }

    /// Connections Sluice opened (the one that saw Postfix listening left out).
    func connects(_ postfix: PostfixInstance) -> Int {
        postfix.log.split(separator: "\n").filter { $0.contains("postfix/smtpd") && $0.contains("]: connect from") }.count - 1
    }

    func delivered(_ postfix: PostfixInstance) -> Int {
        postfix.log.split(separator: "\n").filter { $0.contains("status=sent") }.count
    }

    func testEveryConnectionEndsWithQuitWhenMoreFinishThanThePoolKeeps() throws {
        let postfix = try postfix()
        defer { postfix.stop() }
        // 60 messages wait in the queue (their upstream is not there yet), then all are retried at once: up to 30
        // deliveries in parallel to the real Postfix, more than the 10 idle connections the pool keeps.
        let d = try relay(to: freeLoopbackPort(), delivery: "connection_idle_timeout: 1s")
        defer { _ = d.stop() }
        for i in 0..<60 {
            XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "app@example.test", to: "u\(i)@users.test",
                message: "Subject: burst \(i)\r\n\r\nhello\r\n").code, 250)
        }
        XCTAssertTrue(waitUntil { d.log().components(separatedBy: "\"event\":\"deferred\"").count - 1 >= 60 }, d.log())
        try ("hostname: mx.sluice.test\ndata_dir: var\nadmin: { address: \"127.0.0.1:0\" }\n" + config(upstream: postfix.port, delivery: "connection_idle_timeout: 1s")).write(
            toFile: d.configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try d.cli(["reload"]).0, 0)
        XCTAssertEqual(try d.cli(["queue", "retry", "--all"]).0, 0)
        XCTAssertTrue(waitUntil(60) { self.delivered(postfix) == 60 }, "\(self.delivered(postfix)) delivered\n" + d.log())
        // Every connection Postfix saw has ended (the idle ones after their second), each with QUIT.
        XCTAssertTrue(waitUntil(30) { self.disconnects(postfix).count == self.connects(postfix) }, postfix.log)
        let ended = disconnects(postfix)
        XCTAssertGreaterThan(ended.count, 10, "more connections than the pool keeps: \(ended.count)")
        let dropped = ended.filter { !$0.contains(" quit=1") }
        XCTAssertEqual(dropped, [], "connections ended without QUIT")
    }

    func testTheReuseLimitDecidesWhetherAConnectionCarriesTheNextMessage() throws {
        let postfix = try postfix()
        defer { postfix.stop() }
        for (limit, connections) in [("connection_reuse_limit: 0s", 2), ("connection_idle_timeout: 30s", 1)] {
            let before = connects(postfix)
            let d = try relay(to: postfix.port, delivery: limit)
            let sentBefore = delivered(postfix)
            for i in 0..<2 {
                XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "app@example.test", to: "r\(i)@users.test",
                    message: "Subject: one after another \(i)\r\n\r\nhello\r\n").code, 250)
                XCTAssertTrue(waitUntil(30) { self.delivered(postfix) == sentBefore + i + 1 }, d.log())
            }
            let opened = connects(postfix) - before
            XCTAssertEqual(opened, connections, "\(limit)\n\(postfix.log)")
            _ = d.stop()
        }
    }
}
