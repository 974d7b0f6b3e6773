// ARC end to end (issue 28, RFC 8617) against dkimpy (Tests/interop/arc.py):
// a message DKIM-signed by example.net and sealed by two forwarders verifies
// arc=pass here, with dkim=pass; the same message with its body changed is
// arc=fail; one without ARC is arc=none. What Sluice tags and seals with
// `arc_seal:` carries an ARC set (i=3, cv=pass, the original DKIM result in
// its ARC-Authentication-Results) that dkimpy's arc_verify accepts.

import Foundation
import SluiceTestSupport
import XCTest

final class ARCTests: XCTestCase {
    static let arc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop/arc.py").standardizedFileURL.path

    func py(_ args: [String]) throws -> (Int32, String) {
        let (code, out, err) = try runTool("/usr/bin/python3", [Self.arc] + args)
        if err.contains("No module named") { throw XCTSkip("dkimpy or authres missing; make test installs python3-dkim and python3-authres") }
        return (code, out + err)
    }

    func testChainsAreVerifiedAndSluiceSeals() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let dir = NSTemporaryDirectory() + "sluice-arc-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zoneFile = dir + "/zone.txt"
        for (domain, selector) in [("example.net", "s1"), ("hop1.example", "h1"), ("hop2.example", "h2")] {
            let (code, out) = try py(["keygen", domain, selector, "\(dir)/\(domain).pem", zoneFile])
            XCTAssertEqual(code, 0, out)
        }
        var zone = "$ORIGIN test.\n$TTL 60\n"
        for line in try String(contentsOfFile: zoneFile, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            zone += "\(parts[0]). IN TXT \(parts[1].chunked)\n"
        }
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }

        let d = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 3s }
            local_domains: [example.org]
            arc: { trusted_sealers: [hop1.example] }
            dkim:
              - { domain: example.org, selector: s1, algorithm: rsa-sha256, key: var/dkim/example.org.s1.pem, state: active }
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, verify: [dkim, arc], rules: default }
            """)
        try d.writeRules("""
            rules:
              - name: recorded-by-a-trusted-forwarder
                when: [ { arc: { recorded: { dkim: pass } } } ]
                then: [ { add_header: { name: X-Recorded, value: hop1 } } ]
              - name: forwarded-intact
                when: [ { arc: pass } ]
                then: [ { add_header: { name: X-ARC-Checked, value: pass } }, { arc_seal: example.org }, { store: var/outbox }, stop ]
              - name: other
                when: [ { arc: [fail, none] } ]
                then: [ { add_header: { name: X-ARC-Checked, value: not-pass } }, { store: var/outbox } ]
            """)
        XCTAssertEqual(try d.cli(["dkim", "keygen", "--domain", "example.org", "--selector", "s1"]).0, 0)
        let (_, records, _) = try d.cli(["dkim", "dns", "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(records.utf8)) as? [String: Any])
        let ours = (json["records"] as? [[String: String]] ?? []).compactMap { r in r["record"].map { "\(r["name"]!)\t\($0)\n" } }.joined()
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: zoneFile))
        handle.seekToEndOfFile()
        handle.write(Data(ours.utf8))
        try handle.close()
        try d.start()

        // A message through two forwarders, as dkimpy seals it.
        func chained(_ n: Int) throws -> String {
            let path = "\(dir)/m\(n).eml"
            try "From: a@example.net\r\nTo: u@example.org\r\nSubject: chained \(n)\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <arc-\(n)@example.net>\r\n\r\nhello through two forwarders\r\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertEqual(try py(["dkim", path, "\(dir)/example.net.pem", "example.net", "s1"]).0, 0)
            XCTAssertEqual(try py(["seal", path, "\(dir)/hop1.example.pem", "hop1.example", "h1", "dkim=pass header.d=example.net"]).0, 0)
            XCTAssertEqual(try py(["seal", path, "\(dir)/hop2.example.pem", "hop2.example", "h2", "arc=pass"]).0, 0)
            return try String(contentsOfFile: path, encoding: .utf8)
        }
        func deliver(_ text: String, id: String) throws -> String {
            XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port("mx"), from: "a@example.net", to: "u@example.org", message: text).code, 250)
            func stored() -> String? {
                d.outboxFiles().lazy.map { String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + $0) ?? Data(), as: UTF8.self) }
                    .first { $0.contains(id) }
            }
            XCTAssertTrue(waitUntil { stored() != nil }, d.log())
            return stored() ?? ""
        }

        // 1. Intact: arc=pass, tagged and sealed; dkimpy accepts the new chain.
        let intact = try deliver(try chained(1), id: "<arc-1@example.net>")
        XCTAssertTrue(intact.hasPrefix("ARC-Seal: i=3; a=rsa-sha256; cv=pass; d=example.org; s=s1;"), String(intact.prefix(400)))
        XCTAssertTrue(intact.contains("X-ARC-Checked: pass"), intact)
        XCTAssertTrue(intact.contains("arc=pass (i=2; sealed by hop1.example,hop2.example; hop1.example recorded dkim=pass)"), intact)
        XCTAssertTrue(intact.contains("X-Recorded: hop1"), "the trusted sealer's record reaches the rules: \(intact)")
        let aar = try XCTUnwrap(intact.components(separatedBy: "ARC-Authentication-Results: i=3;").dropFirst().first)
        XCTAssertTrue(aar.prefix(400).contains("dkim=pass header.d=example.net"), String(aar.prefix(400)))
        XCTAssertTrue(aar.prefix(400).contains("arc=pass"), String(aar.prefix(400)))
        let sealedPath = dir + "/sealed.eml"
        try intact.write(toFile: sealedPath, atomically: true, encoding: .utf8)
        let (verified, said) = try py(["verify", sealedPath, zoneFile])
        XCTAssertEqual(verified, 0, said)
        XCTAssertTrue(said.hasPrefix("cv=pass"), said)

        // 2. The body changed after the last seal: arc=fail, not sealed.
        let tampered = try deliver(try chained(2).replacingOccurrences(of: "hello through", with: "hello, changed, through"), id: "<arc-2@example.net>")
        XCTAssertTrue(tampered.contains("X-ARC-Checked: not-pass"), tampered)
        XCTAssertTrue(tampered.contains("arc=fail"), tampered)
        XCTAssertFalse(tampered.hasPrefix("ARC-Seal: i=3"), tampered)
        XCTAssertFalse(tampered.contains("X-Recorded"), "a failed chain's records are not believed")

        // 3. No ARC at all: arc=none.
        let plain = try deliver("From: a@example.net\r\nSubject: direct\r\nMessage-ID: <arc-3@example.net>\r\n\r\nno chain\r\n", id: "<arc-3@example.net>")
        XCTAssertTrue(plain.contains("arc=none"), plain)
        XCTAssertTrue(plain.contains("X-ARC-Checked: not-pass"), plain)
    }

    func testASealNeedsAnActiveKey() throws {
        let d = try DaemonProcess(yaml: "listeners:\n  - { name: mx, address: \"127.0.0.1:0\", tls: none, rules: default }\n")
        try d.writeRules("rules:\n  - name: s\n    then: [ { arc_seal: example.org }, { store: var/outbox } ]\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("default.yaml:3:") && err.contains("no active RSA DKIM key of 'example.org' can seal"), err)
    }
}
