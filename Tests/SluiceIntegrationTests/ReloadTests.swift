// One reload, one runtime (R-CORE-4): a rule and the upstream it relays to,
// added in the same reload, carry the next message (the upstream pools used
// to stay as they were at start: 451 "Unknown upstream" until a restart); a
// broken rule file makes `sluice reload` exit 1 with its position and
// changes nothing.

import Foundation
import XCTest

final class ReloadTests: XCTestCase {
    func testARuleAndItsNewUpstreamWorkAfterOneReload() throws {
        let sinkPort = freeLoopbackPort()
        let sink = try sinkDaemon(port: sinkPort)
        try sink.start()
        defer { _ = sink.stop() }

        let base = """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """
        let d = try DaemonProcess(yaml: base)
        try d.writeRules("rules:\n  - { name: all, then: [ { store: var/outbox } ] }\n")
        try d.start()
        defer { _ = d.stop() }

        // One reload adds the upstream and the rule that names it.
        try (try String(contentsOfFile: d.configPath, encoding: .utf8)
            + "\nupstreams:\n  partner: { hosts: [\"127.0.0.1:\(sinkPort)\"], tls: none }\n")
            .write(toFile: d.configPath, atomically: true, encoding: .utf8)
        try d.writeRules("rules:\n  - { name: all, then: [ { relay: partner } ] }\n")
        let (status, out, err) = try d.cli(["reload"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("reloaded"), out)
        let r = try TestSMTPClient.sendMessage(
            port: d.port(), from: "a@example.test", to: "b@example.org",
            message: "From: a@example.test\r\nTo: b@example.org\r\nSubject: via partner\r\nMessage-ID: <reload-1@test>\r\n\r\nhi\r\n")
        XCTAssertEqual(r.code, 250)
        XCTAssertTrue(waitUntil { messageIDs([sink]).contains("<reload-1@test>") }, d.log())
        XCTAssertFalse(d.log().contains("Unknown upstream"), d.log())

        // A broken rule file: `sluice reload` says where and exits 1; the daemon keeps the working rules.
        try d.writeRules("rules:\n  - { name: all, then: [ { relay: nowhere } ] }\n")
        let (bad, _, badErr) = try d.cli(["reload"])
        XCTAssertEqual(bad, 1)
        XCTAssertTrue(badErr.contains("default.yaml:2:") && badErr.contains("upstream 'nowhere' is not defined"), badErr)
        let again = try TestSMTPClient.sendMessage(
            port: d.port(), from: "a@example.test", to: "b@example.org",
            message: "From: a@example.test\r\nTo: b@example.org\r\nSubject: still\r\nMessage-ID: <reload-2@test>\r\n\r\nhi\r\n")
        XCTAssertEqual(again.code, 250)
        XCTAssertTrue(waitUntil { messageIDs([sink]).contains("<reload-2@test>") }, d.log())
    }

    /// A reload the daemon refuses although the files pass the CLI's own check (the TLS key is unreadable by
    /// the time the daemon loads it): `sluice reload` waits for the daemon's answer and exits 1 with it.
    func testReloadReportsTheDaemonsRefusal() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: starttls }
            """)
        try d.start()
        defer { _ = d.stop() }
        try "not a key\n".write(toFile: d.root + "/var/tls/key.pem", atomically: true, encoding: .utf8)
        let (status, _, err) = try d.cli(["reload"])
        XCTAssertEqual(status, 1, err)
        XCTAssertTrue(err.contains("reload refused"), err)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload_failed\""), d.log())
    }
}
