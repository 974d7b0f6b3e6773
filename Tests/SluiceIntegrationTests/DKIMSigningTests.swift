// DKIM signing end to end: keys made by `sluice dkim keygen`, records from
// `sluice dkim dns --json`, mail signed by the daemon after the rules'
// transformations, verified by dkimpy; then a rotation from s1 to s2 through
// publish-only, dual signing and retirement, one reload at a time.

import Foundation
import SluiceTestSupport
import XCTest

final class DKIMSigningTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop/dkim_verify.py").standardizedFileURL.path

    func config(s1: String, s2: String) -> String {
        """
        dkim:
          - { domain: example.test, selector: s1, algorithm: rsa-sha256, key: var/dkim/example.test.s1.pem, state: \(s1) }
          - { domain: example.test, selector: s2, algorithm: ed25519-sha256, key: var/dkim/example.test.s2.pem, state: \(s2) }
        listeners:
          - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
        """
    }

    func writeConfig(_ d: DaemonProcess, s1: String, s2: String) throws {
        let base = "hostname: mx.sluice.test\ndata_dir: var\nadmin: { address: \"127.0.0.1:0\" }\n"
        try (base + config(s1: s1, s2: s2) + "\n").write(toFile: d.configPath, atomically: true, encoding: .utf8)
    }

    /// Sends one message and returns the stored copy and the verdicts of dkimpy.
    func sendAndVerify(_ d: DaemonProcess, _ n: Int) throws -> (String, String, Int32) {
        let before = d.outboxFiles().count
        let r = try TestSMTPClient.sendMessage(
            port: d.port(), from: "app@example.test", to: "u@example.org",
            message: "From: App <app@example.test>\r\nTo: u@example.org\r\nSubject: report \(n)\r\nMessage-ID: <dkim-\(n)@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZählerstand: \(n)\r\n")
        XCTAssertEqual(r.code, 250)
        let files = d.waitForOutbox(count: before + 1)
        let name = try XCTUnwrap(d.outboxFiles().first { String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + $0)!, as: UTF8.self).contains("<dkim-\(n)@") })
        let text = String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + name)!, as: UTF8.self)
        XCTAssertEqual(files.count, before + 1)
        // The records to publish, as `sluice dkim dns` prints them, are what dkimpy looks up.
        let (status, out, err) = try d.cli(["dkim", "dns", "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let records = try XCTUnwrap(json["records"] as? [[String: String]])
        let zone = records.compactMap { r in r["record"].map { "\(r["name"]!)\t\($0)" } }.joined(separator: "\n") + "\n"
        try zone.write(toFile: d.root + "/zone.txt", atomically: true, encoding: .utf8)
        let (code, verdicts, verr) = try runTool("/usr/bin/python3", [Self.script, d.outbox + "/" + name, d.root + "/zone.txt"])
        if verr.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing; make test installs it") }
        return (text, verdicts + verr, code)
    }

    /// Issue 20: keygen's advice follows the configuration (a key it already lists as active is not to be "added
    /// as publish-only"), and `--out` works without any configuration, relative to the current directory.
    func testKeygenAdviceFollowsTheConfigAndOutNeedsNoConfig() throws {
        let d = try DaemonProcess(yaml: config(s1: "active", s2: "publish-only"))
        var (status, out, err) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("already lists this key as active"), out)
        XCTAssertFalse(out.contains("state: publish-only }"), "no advice to add it again: \(out)")
        (status, out, err) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s2", "--algorithm", "ed25519"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("lists it as publish-only: publish the record above, then make it active"), out)
        (status, out, err) = try d.cli(["dkim", "keygen", "--domain", "new.test", "--selector", "n1"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("add to the dkim: list") && out.contains("state: publish-only }"), out)

        // No configuration anywhere: --out is enough, relative to the current directory.
        let empty = d.root + "/elsewhere"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let (status1, text, err1) = try runTool(
            DaemonProcess.binary,
            ["dkim", "keygen", "--domain", "example.org", "--selector", "x1", "--out", "keys/x1.pem", "--config", empty + "/missing.yaml"],
            currentDirectory: empty)
        XCTAssertEqual(status1, 0, err1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: empty + "/keys/x1.pem"), text)
        XCTAssertTrue(text.contains("x1._domainkey.example.org. IN TXT"), text)
        // A configuration that exists but cannot be read is said, not ignored; --out still works.
        try "listeners: [ {".write(toFile: empty + "/broken.yaml", atomically: true, encoding: .utf8)
        let (code, _, warning) = try runTool(
            DaemonProcess.binary, ["dkim", "keygen", "--domain", "example.org", "--selector", "x2", "--out", empty + "/x2.pem", "--config", empty + "/broken.yaml"])
        XCTAssertEqual(code, 0, warning)
        XCTAssertTrue(warning.contains("broken.yaml not read"), warning)
    }

    func testSigningAndRotationFromS1ToS2() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let d = try DaemonProcess(yaml: config(s1: "active", s2: "publish-only"))
        try FileManager.default.createDirectory(atPath: d.root + "/rules", withIntermediateDirectories: true)
        try """
            rules:
              - name: tag
                then: [ { tag_subject: "[EXT]" }, { add_header: { name: X-Route, value: out } }, { store: var/outbox } ]
            """.write(toFile: d.root + "/rules/default.yaml", atomically: true, encoding: .utf8)
        for (selector, alg) in [("s1", "rsa"), ("s2", "ed25519")] {
            let (status, out, err) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", selector, "--algorithm", alg])
            XCTAssertEqual(status, 0, err)
            XCTAssertTrue(out.hasPrefix("\(selector)._domainkey.example.test. IN TXT \"v=DKIM1; k=\(alg);"), out)
            let mode = try FileManager.default.attributesOfItem(atPath: d.root + "/var/dkim/example.test.\(selector).pem")[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600)
        }
        let (again, _, againErr) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1"])
        XCTAssertEqual(again, 1)
        XCTAssertTrue(againErr.contains("never overwritten"), againErr)
        try d.start()

        // 1. s1 signs; s2 is only published.
        var (text, verdicts, code) = try sendAndVerify(d, 1)
        XCTAssertEqual(code, 0, verdicts + text)
        XCTAssertEqual(text.components(separatedBy: "DKIM-Signature:").count - 1, 1, text)
        XCTAssertTrue(verdicts.contains("pass d=example.test s=s1 a=rsa-sha256"), verdicts)
        XCTAssertTrue(text.contains("Subject: [EXT] report 1"), "the signature covers the tagged subject: \(text)")

        // 2. Both sign.
        try writeConfig(d, s1: "active", s2: "active")
        XCTAssertEqual(try d.cli(["reload"]).0, 0)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload\""), d.log())
        (text, verdicts, code) = try sendAndVerify(d, 2)
        XCTAssertEqual(code, 0, verdicts + text)
        XCTAssertTrue(verdicts.contains("pass d=example.test s=s1 a=rsa-sha256"), verdicts)
        XCTAssertTrue(verdicts.contains("pass d=example.test s=s2 a=ed25519-sha256"), verdicts)

        // 3. s1 retired: only s2 signs, and `dkim dns` says s1's record can go.
        try writeConfig(d, s1: "retired", s2: "active")
        XCTAssertEqual(try d.cli(["reload"]).0, 0)
        XCTAssertTrue(waitUntil { d.log().components(separatedBy: "\"event\":\"reload\"").count > 2 }, d.log())
        (text, verdicts, code) = try sendAndVerify(d, 3)
        XCTAssertEqual(code, 0, verdicts + text)
        XCTAssertEqual(text.components(separatedBy: "DKIM-Signature:").count - 1, 1, text)
        XCTAssertTrue(verdicts.contains("pass d=example.test s=s2 a=ed25519-sha256"), verdicts)
        let (_, dns, _) = try d.cli(["dkim", "dns"])
        XCTAssertTrue(dns.contains("; retired: remove s1._domainkey.example.test."), dns)

        // Tampering with the stored copy breaks the signature.
        let name = d.outboxFiles().first { String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + $0)!, as: UTF8.self).contains("<dkim-3@") }!
        try text.replacingOccurrences(of: "Zählerstand: 3", with: "Zählerstand: 4").write(toFile: d.outbox + "/" + name, atomically: true, encoding: .utf8)
        let (bad, out, _) = try runTool("/usr/bin/python3", [Self.script, d.outbox + "/" + name, d.root + "/zone.txt"])
        XCTAssertNotEqual(bad, 0, out)
    }

    func testCheckRefusesAMissingKeyWithItsPosition() throws {
        let d = try DaemonProcess(yaml: config(s1: "active", s2: "publish-only"))
        try d.writeRules("rules:\n  - { name: all, then: [ { store: var/outbox } ] }\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("sluice.yaml:5:5: dkim: cannot read the key"), err)
        XCTAssertTrue(err.contains("sluice dkim keygen --domain example.test --selector s1"), err)
    }
}

extension DKIMSigningTests {
    func testCheckDNSComparesPublishedKeys() throws {
        let d = try DaemonProcess(yaml: config(s1: "active", s2: "publish-only"))
        try d.writeRules("rules:\n  - { name: all, then: [ { store: var/outbox } ] }\n")
        var records: [String: String] = [:]
        for (selector, alg) in [("s1", "rsa"), ("s2", "ed25519")] {
            let (_, out, _) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", selector, "--algorithm", alg])
            records[selector] = out.split(separator: "\n")[0].components(separatedBy: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element).joined()
        }
        func check(zone: String) throws -> (Int32, String, String) {
            let dns: FixtureDNSServer
            do { dns = try FixtureDNSServer(zone: "$ORIGIN test.\n$TTL 60\n" + zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
            defer { dns.stop() }
            // The daemon's own fixture nameserver line is replaced by this zone's.
            let text = try String(contentsOfFile: d.configPath, encoding: .utf8).split(separator: "\n")
                .filter { !$0.hasPrefix("dns:") }.joined(separator: "\n") + "\n"
            try (text + "dns: { nameserver: \"127.0.0.1:\(dns.port)\", timeout: 3s }\n").write(toFile: d.configPath + ".dns.yaml", atomically: true, encoding: .utf8)
            return try runTool(DaemonProcess.binary, ["check", "--dns", "--config", d.configPath + ".dns.yaml"])
        }
        // Both published: ok.
        var (status, out, err) = try check(zone: "s1._domainkey.example.test. IN TXT \(records["s1"]!.chunked)\ns2._domainkey.example.test. IN TXT \(records["s2"]!.chunked)\n")
        XCTAssertEqual(status, 0, out + err)
        XCTAssertTrue(out.contains("dns: s1._domainkey.example.test publishes the key"), out)
        // The active key missing from DNS: an error; the publish-only one with a stale key: a warning.
        (status, out, err) = try check(zone: "s2._domainkey.example.test. IN TXT \(records["s1"]!.chunked)\n")
        XCTAssertEqual(status, 1, out + err)
        XCTAssertTrue(err.contains("s1._domainkey.example.test: not published"), err)
        XCTAssertTrue(err.contains("warning: s2._domainkey.example.test (publish-only): DNS publishes a different key"), err)
    }
}
