// The sections the built-in components own (`upstreams:`, `dkim:`,
// `archives:`, `archive_encryption:`), read by their readers when a config is
// loaded with the composition root's list.

import Foundation
import SluiceArchive
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceMailAuth
import SluicePipeline
import SluiceRules
import XCTest

final class ComponentSectionsTests: XCTestCase {
    let file = "/srv/sluice/etc/sluice.yaml"
    let base = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n"

    func load(_ yaml: String) throws -> SluiceConfiguration {
        try SluiceConfiguration.parse(yaml: base + yaml, file: file, sections: Components.standard.sections)
    }

    func testSectionsOfTheBuiltInComponents() throws {
        let c = try load("""
            upstreams:
              u: { hosts: [a.test, "10.0.0.1:2525"], tls: required, auth: { username: x, password_file: etc/u.secret }, max_connections: 2, probe_interval: 5s }
            dkim:
              - { domain: A.test, selector: s, key: k.pem, algorithm: ed25519-sha256, state: publish-only }
            archives:
              legal: { retention: permanent }
              default: { retention: 30d }
            archive_encryption: { key_file: etc/archive.key }
            """)
        XCTAssertEqual(c.upstreams["u"]?.username, "x")
        XCTAssertEqual(c.upstreams["u"]?.passwordFile, "/srv/sluice/etc/u.secret")
        XCTAssertEqual(c.upstreams["u"]?.maxConnections, 2)
        XCTAssertEqual(c.upstreams["u"]?.probeInterval, 5)
        XCTAssertEqual(c.upstreams["u"]?.tls, .required)
        XCTAssertEqual(c.upstreams["u"]?.hosts.map(\.port), [25, 2525])
        XCTAssertEqual(c.dkim.first?.domain, "a.test")
        XCTAssertEqual(c.dkim.first?.algorithm, .ed25519SHA256)
        XCTAssertEqual(c.dkim.first?.state, .publishOnly)
        XCTAssertEqual(c.dkim.first?.keyFile, "/srv/sluice/k.pem")
        XCTAssertNil(c.archives["legal"]?.retention)
        XCTAssertEqual(c.archives["default"]?.retention, 30 * 86400)
        XCTAssertEqual(c.archiveKeyFile, "/srv/sluice/etc/archive.key")
    }

    func testTheShippedDefaultConfigAndRulesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
        let c = try SluiceConfiguration.load(file: root + "/etc/sluice.yaml", sections: Components.standard.sections)
        XCTAssertEqual(c.listeners.map(\.name), ["relay", "submission", "submissions"])
        XCTAssertEqual(c.listeners[1].auth, .required)
        XCTAssertEqual(c.trustedSenders, ["example.test"])
        XCTAssertNotNil(c.policies["trusted-only"])
        XCTAssertEqual(c.dkim.map(\.domain), ["example.test"])
    }

    /// The shipped config and rules make the daemon's runtime (with the DKIM key `make run` creates).
    func testTheShippedConfigBuildsTheRuntime() async throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
        let root = NSTemporaryDirectory() + "sluice-shipped-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/etc/sluice.yaml", toPath: root + "/etc/sluice.yaml")
        try FileManager.default.copyItem(atPath: source + "/rules", toPath: root + "/rules")
        try FileManager.default.createDirectory(atPath: root + "/var/dkim", withIntermediateDirectories: true)
        try DKIMKeys.generate(.rsaSHA256).write(toFile: root + "/var/dkim/example.test.s1.pem", atomically: true, encoding: .utf8)
        let runtime = try await Runtime.load(configFile: root + "/etc/sluice.yaml", components: Components.standard)
        XCTAssertEqual(runtime.ruleSets["default"]?.rules.last?.name, "deliver")
        XCTAssertTrue(runtime.canSign("example.test"))
        XCTAssertEqual(runtime.fallbackRoute, .store(directory: root + "/var/outbox"))
        XCTAssertEqual(Set(runtime.targetKinds.keys), ["store", "relay", "send", "bounce", "archive", "lmtp", "webhook"])
        XCTAssertEqual(Set(runtime.verdictTypes.keys), ["sender", "authentication", "inspection", "dns_lists", "spam", "virus", "arc"])
    }

    func testErrorsOfTheSectionsPointAtTheMistake() {
        let cases: [(String, Int, String)] = [
            ("upstreams:\n  u: { hosts: [\"10.0.0.1:25\"], tls: sometimes }\n", 4, "must be one of required, opportunistic, none, got 'sometimes'"),
            ("upstreams:\n  u: { hosts: [a.test], backup: nope }\n", 4, "backup 'nope' must name another upstream"),
            ("upstreams:\n  u: { hosts: [a.test], auth: { username: x } }\n", 4, "needs 'username:' and 'password_file:'"),
            ("dkim:\n  - { domain: a.test, selector: s, key: k.pem, state: on }\n", 4, "must be one of active, publish-only, retired, got 'on'"),
            ("dkim:\n  - { domain: a.test, key: k.pem }\n", 4, "needs 'domain:' and 'selector:'"),
            ("archives:\n  a: { retention: forever }\n", 4, "expected a duration"),
            ("archive_encryption: {}\n", 3, "needs key_file"),
        ]
        for (yaml, line, reason) in cases {
            do {
                _ = try load(yaml)
                XCTFail("accepted: \(yaml)")
            } catch let e as ConfigError {
                XCTAssertEqual(e.file, file)
                XCTAssertEqual(e.line, line, "\(e)")
                XCTAssertTrue(e.reason.contains(reason), "\(e) for \(yaml)")
            } catch {
                XCTFail("\(error)")
            }
        }
    }
}

final class MailAuthReviewTests: XCTestCase {
    /// Without the Public Suffix List, DMARC's organizational domains are wrong for co.uk: a listener that verifies DMARC
    /// gets a warning from `check` and at the start.
    func testAMissingPublicSuffixListIsAWarningWhereDMARCIsVerified() async throws {
        let root = NSTemporaryDirectory() + "sluice-psl-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/rules", withIntermediateDirectories: true)
        func warnings(_ verify: String, psl: String) async throws -> [String] {
            try "hostname: mx.test\nlisteners:\n  - { name: mx, address: \"127.0.0.1:0\", tls: none, verify: \(verify) }\n"
                .write(toFile: root + "/etc/sluice.yaml", atomically: true, encoding: .utf8)
            let components = Components.standard.map { $0 is MailAuthComponent ? MailAuthComponent(publicSuffixList: psl) : $0 }
            return try await Runtime.load(configFile: root + "/etc/sluice.yaml", components: components).warnings
        }
        let missing = root + "/no-such-list.dat"
        let missingWarns = try await warnings("[spf, dkim, dmarc]", psl: missing)
        XCTAssertTrue(missingWarns.contains { $0.hasPrefix("dmarc: cannot read the Public Suffix List \(missing)") })
        let noDMARC = try await warnings("[spf]", psl: missing)
        XCTAssertFalse(noDMARC.contains { $0.hasPrefix("dmarc:") }, "no DMARC, no warning")
        let present = try await warnings("[dmarc]", psl: PublicSuffixList.debianPath)
        XCTAssertFalse(present.contains { $0.hasPrefix("dmarc:") })
    }
}
