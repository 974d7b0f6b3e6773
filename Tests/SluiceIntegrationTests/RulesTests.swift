// Rule sets end to end: a reject reaches the client at end of DATA, two
// recipients take two routes, header actions show in the delivered message,
// quarantine holds until release, SIGHUP swaps rules and refuses a broken file,
// and `sluice rules test` explains a message without sending it.

import Foundation
import XCTest

final class RulesTests: XCTestCase {
    static let rules = """
        rules:
          - name: block-bad
            when: [ { subject: { contains: "wire money" } } ]
            then: [ { reject: { code: 554, status: 5.7.1, message: "Looks like fraud" } } ]
          - name: hold-invoices
            when: [ { subject: { contains: invoice } } ]
            then: [ quarantine ]
          - name: partners
            when: [ { recipient: { domain: partner.test } } ]
            then:
              - add_header: { name: X-Sluice-Route, value: partner }
              - tag_subject: "[PARTNER]"
              - store: var/sink-a
              - stop
          - name: everyone-else
            then: [ { store: var/sink-b } ]
        """

    func daemon() throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try FileManager.default.createDirectory(atPath: d.root + "/rules/lists", withIntermediateDirectories: true)
        try Self.rules.write(toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        return d
    }

    func send(_ d: DaemonProcess, subject: String, to: [String]) throws -> (Int, String) {
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO rules.test")
        _ = try c.command("MAIL FROM:<app@example.test>")
        for r in to { XCTAssertEqual(try c.command("RCPT TO:<\(r)>").code, 250) }
        _ = try c.command("DATA")
        try c.write("From: app@example.test\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@t>\r\n\r\nbody\r\n.\r\n")
        let r = try c.reply()
        return (r.code, r.text)
    }

    func testRejectRoutesHeadersAndReload() throws {
        let d = try daemon()
        try d.start()
        let (code, text) = try send(d, subject: "please wire money today", to: ["a@partner.test"])
        XCTAssertEqual(code, 554)
        XCTAssertEqual(text, "5.7.1 Looks like fraud")

        XCTAssertEqual(try send(d, subject: "hello", to: ["a@partner.test", "b@other.test"]).0, 250)
        let a = DaemonProcess.waitForFiles(in: d.root + "/var/sink-a", count: 1).map { String(decoding: $0, as: UTF8.self) }
        let b = DaemonProcess.waitForFiles(in: d.root + "/var/sink-b", count: 1).map { String(decoding: $0, as: UTF8.self) }
        XCTAssertTrue(a[0].hasPrefix("X-Sluice-Route: partner\r\nReceived: "), a[0])
        XCTAssertTrue(a[0].contains("\r\nSubject: [PARTNER] hello\r\n"), a[0])
        XCTAssertFalse(b[0].contains("X-Sluice-Route"))
        XCTAssertTrue(b[0].contains("\r\nSubject: hello\r\n"))
        XCTAssertTrue(d.log().contains("\"event\":\"rule\""))
        let (_, status, _) = try d.cli(["status"])
        XCTAssertTrue(status.contains("rules: default"), status)

        // A broken rule file is refused on SIGHUP, with its position; the old rules go on.
        try (Self.rules + "\n  - name: broken\n    then: [ { relay: nowhere } ]\n").write(
            toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        kill(d.process!.processIdentifier, SIGHUP)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload_failed\""))
        XCTAssertTrue(d.log().contains("default.yaml:"), d.log())
        XCTAssertEqual(try send(d, subject: "wire money", to: ["a@partner.test"]).0, 554)
        // A good one replaces them for the next message.
        try Self.rules.replacingOccurrences(of: "wire money", with: "gift cards").write(
            toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        kill(d.process!.processIdentifier, SIGHUP)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload\""))
        XCTAssertEqual(try send(d, subject: "wire money", to: ["c@other.test"]).0, 250)
        XCTAssertEqual(try send(d, subject: "gift cards", to: ["c@other.test"]).0, 554)
    }

    func testQuarantineHoldsUntilRelease() throws {
        let d = try daemon()
        try d.start()
        let (code, text) = try send(d, subject: "your invoice", to: ["x@other.test"])
        XCTAssertEqual(code, 250)
        let id = String(text.split(separator: " ").last!)
        XCTAssertTrue(d.waitForLog("\"event\":\"quarantined\""))
        // The queue manager has looked at it (and left it) once its state is written: nothing was delivered.
        XCTAssertTrue(waitUntil { FileManager.default.fileExists(atPath: d.queueDir + "/state/\(id).json") }, d.log())
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: d.root + "/var/sink-b"))?.count ?? 0, 0)
        var (status, out, err) = try d.cli(["queue", "list", "--quarantine"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains(id) && out.contains("quarantined"), out)
        (status, out, err) = try d.cli(["queue", "release", id])
        XCTAssertEqual(status, 0, err)
        let files = DaemonProcess.waitForFiles(in: d.root + "/var/sink-b", count: 1)
        XCTAssertTrue(String(decoding: files[0], as: UTF8.self).contains("your invoice"))
        (status, out, _) = try d.cli(["queue", "list", "--quarantine"])
        XCTAssertTrue(out.contains("Quarantine is empty"), out)
    }

    /// Issue 20: `sluice quarantine` shows why (the rule and its condition), releases to one recipient while the
    /// others stay held, then releases the rest; delete removes a quarantined message.
    func testQuarantineCommandShowsWhyAndReleasesPerRecipient() throws {
        let d = try daemon()
        try d.start()
        let (code, text) = try send(d, subject: "your invoice", to: ["x@other.test", "y@other.test"])
        XCTAssertEqual(code, 250)
        let id = String(text.split(separator: " ").last!)
        XCTAssertTrue(d.waitForLog("\"event\":\"quarantined\""))
        var (status, out, err) = try d.cli(["quarantine", "list"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains(id) && out.contains("rule hold-invoices"), out)
        XCTAssertTrue(try d.cli(["quarantine", "list", "--rule", "other-rule"]).1.contains("Quarantine is empty"))
        (status, out, err) = try d.cli(["quarantine", "show", id])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("why:         rule hold-invoices (when header Subject contains invoice: yes)"), out)
        XCTAssertTrue(out.contains("held for:    x@other.test, y@other.test"), out)
        let (_, json, _) = try d.cli(["quarantine", "show", id, "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual((object["reasons"] as? [String])?.first?.hasPrefix("rule hold-invoices"), true)

        (status, out, err) = try d.cli(["quarantine", "release", id, "--to", "y@other.test"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("released \(id) to y@other.test"), out)
        let first = DaemonProcess.waitForFiles(in: d.root + "/var/sink-b", count: 1)
        XCTAssertTrue(String(decoding: first[0], as: UTF8.self).contains("your invoice"))
        (_, out, _) = try d.cli(["quarantine", "show", id])
        XCTAssertTrue(out.contains("held for:    x@other.test\n"), "x stays in quarantine: \(out)")
        XCTAssertNotEqual(try d.cli(["quarantine", "release", id, "--to", "nobody@other.test"]).0, 0)
        XCTAssertEqual(try d.cli(["quarantine", "release", id]).0, 0)
        // (The store target names the file by queue id: x's copy replaces y's; the log tells both deliveries.)
        XCTAssertTrue(d.waitForLog("\"recipients\":\"x@other.test\""), d.log())
        XCTAssertTrue(d.log().contains("\"recipients\":\"y@other.test\""))
        XCTAssertTrue(waitUntil { (try? d.cli(["quarantine", "list"]).1.contains("Quarantine is empty")) == true })

        // Delete.
        let (c2, t2) = try send(d, subject: "another invoice", to: ["z@other.test"])
        XCTAssertEqual(c2, 250)
        let id2 = String(t2.split(separator: " ").last!)
        XCTAssertTrue(waitUntil { (try? d.cli(["quarantine", "list"]).1.contains(id2)) == true })
        (status, out, _) = try d.cli(["quarantine", "delete", id2])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(out.contains("deleted \(id2)"), out)
        XCTAssertNotEqual(try d.cli(["quarantine", "show", id2]).0, 0)
    }

    func testRulesTestExplainsWithoutSending() throws {
        let d = try daemon()
        let eml = d.root + "/sample.eml"
        try "From: app@example.test\r\nTo: a@partner.test, b@other.test\r\nSubject: hello\r\n\r\nhi\r\n".write(
            toFile: eml, atomically: true, encoding: .utf8)
        var (status, out, err) = try d.cli(["rules", "test", eml])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("recipient <a@partner.test>"), out)
        XCTAssertTrue(out.contains("MATCH    partners: when recipient domain partner.test: yes"), out)
        XCTAssertTrue(out.contains("no match block-bad: when header Subject contains wire money: no"), out)
        XCTAssertTrue(out.contains("(headers: X-Sluice-Route: partner; subject tags: [PARTNER])"), out)
        (status, out, err) = try d.cli(["rules", "test", eml, "--to", "z@other.test", "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(json["result"] as? String, "accept")
        // JSON for people and jq: paths read as paths, not \/tmp\/...
        XCTAssertFalse(out.contains("\\/"), out)
        XCTAssertTrue(out.contains("\"file\" : \"/"), out)
        XCTAssertEqual((json["routes"] as? [[String: Any]])?.first?["recipients"] as? [String], ["z@other.test"])
        try "From: a@x.test\r\nTo: b@y.test\r\nSubject: wire money\r\n\r\n".write(toFile: eml, atomically: true, encoding: .utf8)
        (status, out, _) = try d.cli(["rules", "test", eml])
        XCTAssertTrue(out.contains("refused at end of DATA with 554 5.7.1 Looks like fraud"), out)
        XCTAssertEqual(d.outboxFiles().count, 0)
        // sluice check reports rule errors with their position.
        try "rules:\n  - name: x\n    then: [ { archive: default } ]\n".write(toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("default.yaml:3:24:") && err.contains("archive 'default' is not defined under archives:"), err)
    }
}
