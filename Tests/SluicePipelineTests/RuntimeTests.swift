// The runtime value: built whole from a configuration, and safe for a
// listener the configuration no longer names (it keeps relay control).

import Foundation
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluicePipeline
import SluicePolicy
import XCTest

final class RuntimeTests: XCTestCase {
    func runtime(_ yaml: String) async throws -> Runtime {
        let root = NSTemporaryDirectory() + "sluice-runtime-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/rules", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        try yaml.write(toFile: root + "/etc/sluice.yaml", atomically: true, encoding: .utf8)
        return try await Runtime.load(configFile: root + "/etc/sluice.yaml", components: Components.standard)
    }

    func testPoliciesAndUpstreamsAreInTheValue() async throws {
        let r = try await runtime("""
            hostname: mx.test
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, policy: strict }
            policies:
              strict: { default: deny, statements: [ { action: allow, when: [ { client_ip: [192.0.2.0/24] } ] } ] }
            upstreams:
              smarthost: { hosts: ["127.0.0.1:10026"], tls: none }
            """)
        XCTAssertEqual(r.part(UpstreamPools.self)?.pools.map(\.name), ["smarthost"])
        let policies = try XCTUnwrap(r.part(AcceptPolicies.self))
        XCTAssertNotNil(policies.byListener["relay"])
        let outsider = ClientInfo(address: IPAddress("203.0.113.9"), listener: "relay")
        do {
            var facts = MessageVerdicts()
            try await policies.acceptPolicy(forListener: "relay", limiters: RateLimiters()).checkConnection(outsider, facts: &facts)
            XCTFail("the policy lets an outsider connect")
        } catch {}
    }

    /// A listener removed by a reload is still bound until the restart: it must not become an open relay.
    func testAListenerTheConfigNoLongerNamesKeepsRelayControl() async throws {
        let r = try await runtime("""
            hostname: mx.test
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
            """)
        let client = ClientInfo(address: IPAddress("203.0.113.9"), listener: "gone")
        do {
            var facts = MessageVerdicts()
            try await XCTUnwrap(r.part(AcceptPolicies.self)).acceptPolicy(forListener: "gone", limiters: RateLimiters()).checkRecipient(
                MailAddress(localPart: "x", domain: "elsewhere.test"), sender: nil, client: client, facts: &facts)
            XCTFail("relayed for an untrusted client")
        } catch let e as SMTPError {
            XCTAssertEqual(e.reply.code, 550, "\(e)")
            XCTAssertTrue(e.reply.lines.joined().contains("Relay access denied"), "\(e)")
        }
    }
}
