// clamd as a scan stage (issue 27): a real clamd (Debian's clamav-daemon)
// with a one-signature database written by the test; the EICAR test string
// in the body, as a base64 attachment and inside a zip is quarantined by a
// `virus:` rule; clean mail is delivered; with clamd stopped, `on_error:
// tempfail` answers 451 4.7.1 (nothing is accepted, so nothing is lost) and,
// after a reload to `accept`, mail goes through with the verdict logged; a
// rule testing `virus:` without a scanner fails to load with its position;
// `sluice check` warns when the scanner's timeout does not fit rules_timeout.

import Foundation
import SluiceTestSupport
import XCTest

final class VirusScanTests: XCTestCase {
    func config(_ clamd: ClamdInstance, onError: String, timeout: String = "10s") -> String {
        """
        listeners:
          - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
        scanners:
          virus: { socket: \(clamd.socket), timeout: \(timeout), on_error: \(onError) }
        """
    }

    static let rules = """
        rules:
          - name: viruses
            when: [ { virus: true } ]
            then: [ quarantine, { store: var/outbox } ]
          - name: deliver
            then: [ { store: var/outbox } ]
        """

    static func zip(_ name: String, _ content: String) throws -> Data {
        let dir = NSTemporaryDirectory() + "sluice-zip-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try content.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
        let (status, _, err) = try runTool("/usr/bin/zip", ["-q", "-j", "\(dir)/a.zip", "\(dir)/\(name)"], timeout: 30)
        XCTAssertEqual(status, 0, err)
        return try Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.zip"))
    }

    func testInfectedMailIsQuarantinedAndAScannerThatIsDownFollowsOnError() throws {
        let clamd: ClamdInstance
        do { clamd = try ClamdInstance() } catch let e as ClamdUnavailable { return XCTFail(e.description) }
        let d = try DaemonProcess(yaml: config(clamd, onError: "tempfail"))
        try d.writeRules(Self.rules)
        try d.start()
        let eicar = ClamdInstance.eicar
        let infected = [
            ("body", "Subject: test\r\n\r\n\(eicar)\r\n"),
            ("attachment", DocumentDLPTests.multipart([DocumentDLPTests.attachment("eicar.com", type: "application/octet-stream", Data(eicar.utf8))])),
            ("zip", DocumentDLPTests.multipart([DocumentDLPTests.attachment("eicar.zip", type: "application/zip", try Self.zip("eicar.com", eicar))])),
        ]
        var quarantined: [String] = []
        for (what, message) in infected {
            let r = try TestSMTPClient.sendMessage(port: d.port(), message: message)
            XCTAssertEqual(r.code, 250, "\(what): \(r.text)")
            quarantined.append(String(r.text.split(separator: " ").last ?? ""))
        }
        var r = try TestSMTPClient.sendMessage(port: d.port(), message: "Subject: clean\r\n\r\nnothing to see\r\n")
        XCTAssertEqual(r.code, 250, r.text)
        XCTAssertEqual(d.waitForOutbox(count: 1).count, 1, "the clean message is delivered")
        let (status, list, err) = try d.cli(["quarantine", "list"])
        XCTAssertEqual(status, 0, err)
        for id in quarantined { XCTAssertTrue(list.contains(id), "\(id) quarantined: \(list)") }
        XCTAssertTrue(d.log().contains("Sluice-Test-Eicar"), "the signature is logged")
        XCTAssertEqual(d.outboxFiles().count, 1, "no infected message was delivered")

        // `sluice status` shows the scanner's health.
        var health = try d.cli(["status"]).1
        XCTAssertTrue(health.contains("SCANNER") && health.range(of: #"virus\s+ok\s+4\s+3\s+0"#, options: .regularExpression) != nil, health)

        // clamd stops: tempfail refuses with 451 (the client keeps the message), nothing is queued.
        clamd.stop()
        r = try TestSMTPClient.sendMessage(port: d.port(), message: "Subject: during the outage\r\n\r\nhello\r\n")
        XCTAssertEqual(r.code, 451, r.text)
        XCTAssertTrue(r.text.contains("4.7.1"), r.text)
        health = try d.cli(["status"]).1
        XCTAssertTrue(health.range(of: #"virus\s+failing\s+4\s+3\s+1\s+cannot connect"#, options: .regularExpression) != nil, health)
        // Reloaded with on_error: accept, mail goes through and the outage is logged.
        try ("hostname: mx.sluice.test\ndata_dir: var\nadmin: { address: \"127.0.0.1:0\" }\n" + config(clamd, onError: "accept"))
            .write(toFile: d.configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try d.cli(["reload"]).0, 0)
        XCTAssertTrue(waitUntil(10) {
            (try? TestSMTPClient.sendMessage(port: d.port(), message: "Subject: accepted anyway\r\n\r\nhello\r\n").code) == 250
        })
        XCTAssertEqual(d.waitForOutbox(count: 2).count, 2)
        XCTAssertTrue(d.log().contains("virus scanner unavailable"), d.log())
    }

    func testAVirusRuleNeedsAScannerAndItsTimeoutMustFit() throws {
        let d = try DaemonProcess(yaml: "listeners:\n  - { name: relay, address: \"127.0.0.1:0\", tls: none, rules: default }\n")
        try d.writeRules(Self.rules)
        var (status, out, err) = try d.cli(["check"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("default.yaml:3:22") && err.contains("no virus scanner is configured"), err)
        try ("hostname: mx.sluice.test\ndata_dir: var\nlisteners:\n  - { name: relay, address: \"127.0.0.1:0\", tls: none, rules: default }\n"
            + "scanners:\n  virus: { socket: /run/clamav/clamd.ctl, timeout: 45s }\n").write(toFile: d.configPath, atomically: true, encoding: .utf8)
        (status, out, err) = try d.cli(["check"])
        XCTAssertTrue((out + err).contains("timeout 45s is not below listener relay's rules_timeout 30s"), out + err)
    }
}
