// Config loading: defaults, values, and errors that point at file:line:column.

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

    func testTheShippedDefaultConfigLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../etc/sluice.yaml").standardizedFileURL.path
        let c = try SluiceConfiguration.load(file: path)
        XCTAssertEqual(c.listeners.map(\.name), ["relay", "submission", "submissions"])
        XCTAssertEqual(c.listeners[1].auth, .required)
        XCTAssertEqual(c.trustedSenders, ["example.test"])
        XCTAssertNotNil(c.policies["trusted-only"])
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
            ("dkim:\n  - { domain: a.test, selector: s1 }\nlisteners: []\n", 2, 5, "dkim[0]", "needs 'domain:', 'selector:' and 'key:'"),
            ("dkim:\n  - { domain: a.test, selector: s1, key: k.pem, state: maybe }\n", 2, 56, "dkim[0].state", "must be one of"),
            ("admin: { address: everywhere }\nlisteners: []\n", 1, 19, "admin.address", "expected host:port"),
            ("listeners:\n  - { name: a, address: 127.0.0.1:25, tls: none, auth: required }\n", 2, 56, "listeners[0].auth", "would never offer AUTH"),
            ("listeners: [ {name: a\n", 2, 1, "", "YAML syntax"),
            ("dns: { nameserver: dns.example }\nlisteners: []\n", 1, 20, "dns.nameserver", "expected 'system' or an address"),
            ("upstreams:\n  u: { hosts: [a.test], auth: { username: x } }\n", 2, 31, "upstreams.u.auth", "needs 'username:' and 'password_file:'"),
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
            upstreams:
              u: { hosts: [a.test], auth: { username: x, password_file: etc/u.secret }, max_connections: 2, probe_interval: 5s }
            listeners:
              - { name: a, address: 127.0.0.1:25 }
            """)
        XCTAssertEqual(c.dns.nameserver?.host, "127.0.0.1")
        XCTAssertEqual(c.dns.nameserver?.port, 5353)
        XCTAssertEqual(c.dns.timeout, 3)
        XCTAssertEqual(c.delivery.sendPort, 2525)
        XCTAssertEqual(c.delivery.destinationConcurrency, 4)
        XCTAssertEqual(c.upstreams["u"]?.username, "x")
        XCTAssertTrue(c.upstreams["u"]?.passwordFile?.hasSuffix("/etc/u.secret") ?? false)
        XCTAssertEqual(c.upstreams["u"]?.maxConnections, 2)
        XCTAssertEqual(c.upstreams["u"]?.probeInterval, 5)
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
            upstreams:
              u: { hosts: ["10.0.0.1:25"], tls: required }
            delivery: { send_tls: none }
            dkim:
              - { domain: a.test, selector: s, key: k.pem, algorithm: ed25519-sha256, state: publish-only }
            queue: { min_free: 2GiB }
            """)
        XCTAssertEqual(c.upstreams["u"]?.tls, .required)
        XCTAssertEqual(c.delivery.sendTLS, OutboundTLS.none)
        XCTAssertEqual(c.dkim.first?.algorithm, .ed25519SHA256)
        XCTAssertEqual(c.dkim.first?.state, .publishOnly)
        XCTAssertEqual(c.queue.minFree, 2 << 30)
        XCTAssertEqual(try load(base).queue.minFree, 512 << 20)
        let cases: [(String, Int, String)] = [
            ("upstreams:\n  u: { hosts: [\"10.0.0.1:25\"], tls: sometimes }\n", 4, "must be one of required, opportunistic, none, got 'sometimes'"),
            ("dkim:\n  - { domain: a.test, selector: s, key: k.pem, state: on }\n", 4, "must be one of active, publish-only, retired, got 'on'"),
            ("queue: { min_free: lots }\n", 3, "expected a size like 25MB"),
            ("queue: { min_fre: 1GB }\n", 3, "unknown key 'min_fre'"),
        ]
        for (yaml, line, reason) in cases {
            let e = error(base + yaml)
            XCTAssertEqual(e?.line, line, yaml)
            XCTAssertTrue(e?.reason.contains(reason) ?? false, "\(String(describing: e)) for \(yaml)")
        }
    }
}
