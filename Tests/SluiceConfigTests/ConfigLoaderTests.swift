// Config loading: defaults, values, and errors that point at file:line:column.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceConfig

final class ConfigLoaderTests: XCTestCase {
    let file = "/srv/sluice/etc/sluice.yaml"

    func load(_ yaml: String) throws -> SluiceConfiguration { try SluiceConfiguration.parse(yaml: yaml, file: file) }

    func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try load(yaml)
            XCTFail("accepted", file: file, line: line)
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testMinimalConfigGetsDefaults() throws {
        let c = try load("listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n")
        XCTAssertEqual(c.dataDir, "/srv/sluice/var")
        XCTAssertEqual(c.delivery.storeDirectory, "/srv/sluice/var/outbox")
        XCTAssertEqual(c.tls.certificate, "/srv/sluice/var/tls/cert.pem")
        XCTAssertEqual(c.listeners[0].tls, .starttls)
        XCTAssertEqual(c.listeners[0].maxMessageSize, 25 << 20)
        XCTAssertEqual(c.listeners[0].bareLineEndings, .reject)
        XCTAssertEqual(c.trustedNetworks.count, 2)
    }

    func testValues() throws {
        let c = try load("""
            hostname: mx.test
            data_dir: /data
            listeners:
              - name: a
                address: "[::1]:25"
                tls: implicit
                max_message_size: 10MB
                command_timeout: 30s
                bare_lf: normalize
            policies:
              p: { default: deny, statements: [ { action: allow, when: [ { client_ip: 10.0.0.0/8 } ] } ] }
            delivery: { retry_schedule: [1s, 2m], max_delivery_time: 1d }
            """)
        XCTAssertEqual(c.listeners[0].host, "::1")
        XCTAssertEqual(c.listeners[0].tls, .implicit)
        XCTAssertEqual(c.listeners[0].maxMessageSize, 10 << 20)
        XCTAssertEqual(c.listeners[0].commandTimeout, 30)
        XCTAssertEqual(c.listeners[0].bareLineEndings, .normalize)
        XCTAssertEqual(c.delivery.retrySchedule, [1, 120])
        XCTAssertEqual(c.delivery.maxDeliveryTime, 86400)
        XCTAssertEqual(c.policies["p"]?.statements.count, 1)
    }

    func testErrorsNameFileLineColumnAndKey() {
        let cases: [(String, Int, Int, String, String)] = [
            ("listeners:\n  - { name: a, address: 127.0.0.1:25 }\nbogus: 1\n", 3, 1, "bogus", "unknown key 'bogus'"),
            ("listeners:\n  - name: a\n    address: nowhere\n", 3, 14, "listeners[0].address", "expected host:port"),
            ("listeners:\n  - name: a\n    address: 1.2.3.4:25\n    tls: maybe\n", 4, 10, "listeners[0].tls", "must be one of"),
            ("listeners:\n  - name: a\n    address: 1.2.3.4:25\n    max_message_size: lots\n", 4, 23, "listeners[0].max_message_size", "expected a size"),
            ("listeners:\n  - name: a\n    address: 1.2.3.4:25\n    policy: nope\n", 2, 5, "listeners[0]", "policy 'nope' is not defined"),
            ("networks: { trusted: [10.0.0.0/40] }\nlisteners: []\n", 1, 23, "networks.trusted[0]", "not an IP network"),
            ("admin: { address: everywhere }\nlisteners: []\n", 1, 19, "admin.address", "expected host:port"),
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, tls: none, auth: required }\n", 2, 56, "listeners[0].auth", "would never offer AUTH"),
            ("listeners: [ {name: a\n", 2, 1, "", "YAML syntax"),
            ("dns: { nameserver: dns.example }\nlisteners: []\n", 1, 20, "dns.nameserver", "expected 'system' or an address"),
            ("delivery: { send_tls: sometimes }\nlisteners: []\n", 1, 23, "delivery.send_tls", "must be one of"),
        ]
        for (yaml, line, column, key, reason) in cases {
            guard let e = error(yaml) else { continue }
            XCTAssertEqual(e.line, line, "\(e)")
            XCTAssertEqual(e.column, column, "\(e)")
            XCTAssertEqual(e.keyPath, key, "\(e)")
            XCTAssertTrue(e.reason.contains(reason), "\(e)")
            XCTAssertTrue(e.description.hasPrefix("\(file):\(line):\(column): "), e.description)
        }
    }

    func testDNSAndOutboundSettings() throws {
        let c = try load("""
            dns: { nameserver: "127.0.0.1:5353", timeout: 3s }
            delivery: { send_port: 2525, destination_concurrency: 4 }
            listeners:
              - { name: a, address: 127.0.0.1:25 }
            """)
        XCTAssertEqual(c.dns.nameserver?.host, "127.0.0.1")
        XCTAssertEqual(c.dns.nameserver?.port, 5353)
        XCTAssertEqual(c.dns.timeout, 3)
        XCTAssertEqual(c.delivery.sendPort, 2525)
        XCTAssertEqual(c.delivery.destinationConcurrency, 4)
        let system = try load("dns: { nameserver: system }\nlisteners:\n  - { name: a, address: 127.0.0.1:25 }\n")
        XCTAssertNil(system.dns.nameserver)
    }

    func testSizesAndDurations() {
        XCTAssertEqual(ByteSize.parse("25MB"), 25 << 20)
        XCTAssertEqual(ByteSize.parse("512kb"), 512 << 10)
        XCTAssertEqual(ByteSize.parse("1000"), 1000)
        XCTAssertNil(ByteSize.parse("-1MB"))
        XCTAssertNil(ByteSize.parse("MB"))
        XCTAssertEqual(DurationText.parse("30s"), 30)
        XCTAssertEqual(DurationText.parse("5m"), 300)
        XCTAssertEqual(DurationText.parse("250ms"), 0.25)
        XCTAssertEqual(DurationText.parse("5d"), 432000)
        XCTAssertNil(DurationText.parse("5"))
        XCTAssertNil(DurationText.parse("soon"))
    }

    /// Enumerated settings parse into enums; a wrong word is an error at its position naming the choices, never a
    /// silent fallback.
    func testEnumeratedSettingsAreEnumsWithPositionedErrors() throws {
        let base = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n"
        let c = try load(base + """
            delivery: { send_tls: none }
            queue: { min_free: 2GiB }
            """)
        XCTAssertEqual(c.delivery.sendTLS, OutboundTLS.none)
        XCTAssertEqual(c.queue.minFree, 2 << 30)
        XCTAssertEqual(try load(base).queue.minFree, 512 << 20)
        let cases: [(String, Int, String)] = [
            ("delivery: { send_tls: sometimes }\n", 3, "must be one of required, opportunistic, none, got 'sometimes'"),
            ("queue: { min_free: lots }\n", 3, "expected a size like 25MB"),
            ("queue: { min_fre: 1GB }\n", 3, "unknown key 'min_fre'"),
        ]
        for (yaml, line, reason) in cases {
            let e = error(base + yaml)
            XCTAssertEqual(e?.line, line, yaml)
            XCTAssertTrue(e?.reason.contains(reason) ?? false, "\(String(describing: e)) for \(yaml)")
        }
    }

    /// delivery.tls_policy per domain with its `*` default; send_tls stays the alias of `*`; ca_file and mta_sts.
    func testOutboundTLSPolicy() throws {
        let base = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n"
        let ca = NSTemporaryDirectory() + "sluice-ca-\(UUID().uuidString.prefix(8)).pem"
        try "roots".write(toFile: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: ca) }
        let c = try load(base + """
            delivery:
              tls_policy: { "*": verify, Bank.Example: none, partner.example: may }
              ca_file: \(ca)
              mta_sts: { https_port: 8443 }
            """)
        XCTAssertEqual(c.delivery.tlsPolicy, ["*": .verify, "bank.example": DomainTLSPolicy.Mode.none, "partner.example": .may])
        XCTAssertEqual(c.delivery.sendTLS, .required)
        XCTAssertEqual(c.delivery.caFile, ca)
        XCTAssertEqual(c.delivery.mtaSTS.httpsPort, 8443)
        XCTAssertEqual(try load(base + "dns: { trust_anchor: \(ca) }\n").dns.trustAnchor, ca)
        XCTAssertEqual(try load(base + "dns: { trust_anchor: \(ca) }\ndelivery: { tls_policy: { a.example: dane-only } }\n").delivery.tlsPolicy["a.example"], .daneOnly)
        XCTAssertTrue("\(error(base + "dns: { trust_anchor: /nonexistent/root.key }\n").map { "\($0)" } ?? "")".contains("cannot read /nonexistent/root.key"))
        XCTAssertNil(c.delivery.mtaSTS.caFile)
        XCTAssertEqual(try load(base).delivery.tlsPolicy, ["*": .may])
        XCTAssertEqual(try load(base + "delivery: { send_tls: required }\n").delivery.tlsPolicy, ["*": .verify])
        XCTAssertEqual(try load(base + "delivery: { send_tls: none, tls_policy: { a.example: verify } }\n").delivery.tlsPolicy, ["*": DomainTLSPolicy.Mode.none, "a.example": .verify])
        let cases: [(String, Int, String)] = [
            ("delivery:\n  tls_policy: { a.example: sometimes }\n", 4, "must be one of dane-only, verify, may, none, got 'sometimes'"),
            ("delivery:\n  tls_policy: { a.example: dane-only }\n", 4, "dane-only needs DNSSEC: set dns.trust_anchor"),
            ("delivery:\n  tls_policy: { \"a b\": verify }\n", 4, "'a b' is not a domain name"),
            ("delivery:\n  send_tls: required\n  tls_policy: { \"*\": may }\n", 5, "the default is given twice"),
            ("delivery:\n  ca_file: /nonexistent/ca.pem\n", 4, "cannot read /nonexistent/ca.pem"),
            ("delivery:\n  mta_sts: { https_port: 0 }\n", 4, "https_port"),
        ]
        for (yaml, line, reason) in cases {
            let e = error(base + yaml)
            XCTAssertEqual(e?.line, line, yaml)
            XCTAssertTrue((e.map { "\($0)" } ?? "").contains(reason), "\(String(describing: e)) for \(yaml)")
        }
    }
}

/// A section a component owns, read by its own reader.
struct ExampleSection: ConfigSection {
    static let key = "example"
    var level = 1
    var file: String?

    init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["level", "file"])
        if let l = m["level"] { level = try l.int(in: 1...9) }
        if let f = m["file"] { file = context.resolve(try f.nonEmptyString()) }
    }
}

final class ConfigSectionTests: XCTestCase {
    let base = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n"

    func testAComponentsSectionIsReadByItsReaderWithPositionedErrors() throws {
        let file = "/srv/sluice/etc/sluice.yaml"
        let c = try SluiceConfiguration.parse(yaml: base + "example: { level: 3, file: etc/x.key }\n", file: file, sections: [ExampleSection.self])
        XCTAssertEqual(c.section(ExampleSection.self)?.level, 3)
        XCTAssertEqual(c.section(ExampleSection.self)?.file, "/srv/sluice/etc/x.key")
        XCTAssertEqual(try SluiceConfiguration.parse(yaml: base, file: file, sections: [ExampleSection.self]).section(ExampleSection.self)?.level, 1)
        do {
            _ = try SluiceConfiguration.parse(yaml: base + "example: { levle: 3 }\n", file: file, sections: [ExampleSection.self])
            XCTFail("an unknown key of a section was accepted")
        } catch let e as ConfigError {
            XCTAssertEqual(e.line, 3)
            XCTAssertEqual(e.column, 12)
            XCTAssertTrue(e.reason.contains("unknown key 'levle'"), "\(e)")
        }
        // Without the component, its key is unknown like any other.
        do {
            _ = try SluiceConfiguration.parse(yaml: base + "example: { level: 3 }\n", file: file)
            XCTFail("a key no component reads was accepted")
        } catch let e as ConfigError {
            XCTAssertEqual(e.line, 3)
            XCTAssertTrue(e.reason.contains("unknown key 'example'"), "\(e)")
        }
    }
}

/// `auth: mtls`, `client_ca`, `client_crl` and `certificates:` (R-SMTP-2, R-CORE-2).
final class ClientCertificateConfigTests: XCTestCase {
    let file = "/etc/sluice/sluice.yaml"

    func testListenerKeysAndPrincipalsWithPositionedErrors() throws {
        let ca = NSTemporaryDirectory() + "sluice-ca-\(UUID().uuidString.prefix(8)).pem"
        try "not read here".write(toFile: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: ca) }
        let config = try SluiceConfiguration.parse(
            yaml: """
                local_domains: [example.org]
                certificates:
                  - { subject: "CN=app1", senders: [example.test] }
                  - { fingerprint: "SHA256:\(String(repeating: "AB:", count: 31))AB" }
                listeners:
                  - { name: m, address: 127.0.0.1:25, auth: mtls, client_ca: "\(ca)" }
                """, file: file)
        XCTAssertEqual(config.listeners[0].auth, .mtls)
        XCTAssertEqual(config.listeners[0].clientCA, ca)
        XCTAssertEqual(config.certificates[0], CertificatePrincipal(match: .subject("CN=app1"), senders: ["example.test"]))
        XCTAssertEqual(config.certificates[1].match, .fingerprint("sha256:" + String(repeating: "ab", count: 32)))
        // A listener that insists on certificates admits no untrusted client: no default verify.
        XCTAssertEqual(config.listeners[0].verify, [])

        let cases: [(String, Int, Int, String, String)] = [
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, auth: mtls }\n", 2, 45, "listeners[0].auth", "auth: mtls needs client_ca"),
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, client_ca: /nonexistent/ca.pem }\n", 2, 50, "listeners[0].client_ca", "cannot read /nonexistent/ca.pem"),
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, tls: none, client_ca: \"\(ca)\" }\n", 2, 61, "listeners[0].client_ca", "needs tls: starttls or implicit"),
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, client_crl: \"\(ca)\" }\n", 2, 51, "listeners[0].client_crl", "client_crl needs client_ca"),
            ("certificates:\n  - { fingerprint: \"sha256:12\" }\nlisteners:\n  - { name: a, address: 127.0.0.1:25 }\n", 2, 20, "certificates[0].fingerprint", "expected a SHA-256 fingerprint"),
            ("certificates:\n  - { senders: [a.test] }\nlisteners:\n  - { name: a, address: 127.0.0.1:25 }\n", 2, 5, "certificates[0]", "exactly one of 'fingerprint:' or 'subject:'"),
        ]
        for (yaml, line, column, key, reason) in cases {
            do {
                _ = try SluiceConfiguration.parse(yaml: yaml, file: file)
                XCTFail("accepted: \(yaml)")
            } catch let e as ConfigError {
                XCTAssertEqual(e.line, line, "\(e)")
                XCTAssertEqual(e.column, column, "\(e)")
                XCTAssertEqual(e.keyPath, key, "\(e)")
                XCTAssertTrue(e.reason.contains(reason), "\(e)")
            }
        }
    }

    func testSubjectsAndFingerprintsCompareAsAdministratorsWriteThem() {
        let c = ClientCertificate(
            subject: "CN=app1,O=Example\\, Inc", issuer: "CN=CA", subjectAlternativeNames: [], fingerprint: "sha256:" + String(repeating: "0f", count: 32),
            serialNumber: "01")
        XCTAssertTrue(c.subjectHas("CN=app1"))
        XCTAssertTrue(c.subjectHas("o=example\\, inc, cn=APP1"))
        XCTAssertFalse(c.subjectHas("CN=app"))
        XCTAssertFalse(c.subjectHas("CN=app1,O=Other"))
        XCTAssertFalse(c.subjectHas(""))
        XCTAssertTrue(c.hasFingerprint(String(repeating: "0F:", count: 31) + "0F"))
        XCTAssertFalse(c.hasFingerprint("sha256:0f"))
        var client = ClientInfo(address: IPAddress("192.0.2.9"), listener: "m")
        let principals = [CertificatePrincipal(match: .subject("CN=app1"), senders: [])]
        XCTAssertNil(principals.principal(for: client))
        client.clientCertificate = c
        XCTAssertEqual(principals.principal(for: client)?.name, "client certificate CN=app1")
    }
}

/// A storage backend's settings: `storage: { backend: NAME, NAME: {...} }`, read by the backend component's section.
struct ExampleBackendSection: ConfigSection {
    static let key = "storage.example"
    var url: String?

    init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["url"])
        if let u = m["url"] { url = try u.nonEmptyString() }
    }
}

final class StorageBackendSectionTests: XCTestCase {
    let base = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\n"
    let file = "/srv/sluice/etc/sluice.yaml"

    func testABackendsSettingsAreReadUnderStorageBesideBackend() throws {
        let c = try SluiceConfiguration.parse(
            yaml: base + "storage: { backend: example, example: { url: \"db://h/x\" } }\n", file: file, sections: [ExampleBackendSection.self])
        XCTAssertEqual(c.storage.backend, "example")
        XCTAssertEqual(c.storage.location, "\(file):3:21")
        XCTAssertEqual(c.section(ExampleBackendSection.self)?.url, "db://h/x")
        // Absent: the reader gets nil (its defaults).
        XCTAssertNil(try SluiceConfiguration.parse(yaml: base, file: file, sections: [ExampleBackendSection.self]).section(ExampleBackendSection.self)?.url)
        // Its unknown keys are refused where they are; without the component, `storage.example` is an unknown key;
        // the section's key is never a top-level key.
        let cases: [(String, [any ConfigSection.Type], Int, Int, String)] = [
            ("storage: { backend: example, example: { uri: x } }\n", [ExampleBackendSection.self], 3, 41, "unknown key 'uri'"),
            ("storage: { backend: example, example: { url: x } }\n", [], 3, 30, "unknown key 'example'"),
            ("example: { url: x }\n", [ExampleBackendSection.self], 3, 1, "unknown key 'example'"),
        ]
        for (yaml, sections, line, column, reason) in cases {
            do {
                _ = try SluiceConfiguration.parse(yaml: base + yaml, file: file, sections: sections)
                XCTFail("accepted: \(yaml)")
            } catch let e as ConfigError {
                XCTAssertEqual(e.line, line, "\(e)")
                XCTAssertEqual(e.column, column, "\(e)")
                XCTAssertTrue(e.reason.contains(reason), "\(e)")
            }
        }
    }
}
