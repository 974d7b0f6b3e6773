// Every traffic-policy field with every operator, read from YAML as an
// administrator writes it and evaluated for one session's facts: each row a
// statement that must deny (or must not), so a field or operator that stops
// working fails its own row. Component conditions (a DNS list, a client
// certificate) are tested through their own kinds here as well, and a
// statement's reply is what the client reads.

import Foundation
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluicePolicy

final class PolicyOperatorTests: XCTestCase {
    /// A component's condition: holds when the session's facts carry a marker verdict.
    struct Listed: Verdict, Hashable {
        static let name = "test_listed"
        var reason: String
        var forQueue: Listed { self }
        var summary: String { reason }
    }

    struct ListedCondition: PolicyCondition {
        func holds(_ facts: PolicyFacts) -> Bool { facts.verdicts[Listed.self] != nil }
        var isConnectionLevel: Bool { true }
        var reads: Set<String> { [Listed.name] }
        func detail(_ facts: PolicyFacts) -> String? { facts.verdicts[Listed.self].map { "listed: \($0.reason)" } }
    }

    struct ListedKind: PolicyConditionKind {
        let key = "listed"
        func parse(_ value: ConfigNode, _ context: inout PolicyParseContext) throws -> any PolicyCondition {
            _ = try value.bool()
            return ListedCondition()
        }
    }

    var rulesDir = ""

    override func setUpWithError() throws {
        rulesDir = NSTemporaryDirectory() + "sluice-policy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: rulesDir + "/lists", withIntermediateDirectories: true)
        try "vip@example.org\n@partner.example\n".write(toFile: rulesDir + "/lists/vips.txt", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: rulesDir) }

    func policy(_ when: String, reply: String? = nil) throws -> TrafficPolicy {
        let yaml = """
            rules_dir: \(rulesDir)
            policies:
              p:
                default: allow
                statements:
                  - action: deny
                    when: [ \(when) ]
            \(reply.map { "        reply: \"\($0)\"" } ?? "")
            listeners:
              - { name: l, address: 127.0.0.1:25, policy: p }
            """
        let config = try SluiceConfiguration.parse(yaml: yaml, file: "/etc/sluice.yaml", policyConditions: [ListedKind()])
        return try XCTUnwrap(config.policies["p"])
    }

    /// The session every row is evaluated against.
    var facts: PolicyFacts {
        var client = ClientInfo(address: IPAddress("198.51.100.7"), listener: "l")
        client.helo = "mail.Sender.example"
        client.tlsVersion = "TLSv1.2"
        client.authenticatedUser = "app@example.test"
        var verdicts = MessageVerdicts()
        verdicts[Listed.self] = Listed(reason: "seen in a trap")
        return PolicyFacts(
            client: client, sender: MailAddress(localPart: "Billing", domain: "Sender.Example"),
            recipient: MailAddress(localPart: "vip", domain: "example.org"), verdicts: verdicts)
    }

    func testEveryFieldWithEveryOperator() throws {
        let rows: [(String, Bool)] = [
            ("{ client_ip: [198.51.100.0/24] }", true),
            ("{ client_ip: [2001:db8::/32] }", false),
            // sender: every string operator, the domain operator and an address list
            ("{ sender: billing@sender.example }", true),
            ("{ sender: [other@sender.example, BILLING@SENDER.EXAMPLE] }", true),
            ("{ sender: { equals: billing@other.example } }", false),
            ("{ sender: { contains: \"ing@\" } }", true),
            ("{ sender: { starts_with: bill } }", true),
            ("{ sender: { starts_with: pay } }", false),
            ("{ sender: { ends_with: \"@sender.example\" } }", true),
            ("{ sender: { domain: [sender.example] } }", true),
            ("{ sender: { domain: [.example] } }", true),
            ("{ sender: { domain: [other.example] } }", false),
            ("{ sender: { matches: \"^bill[a-z]+@\" } }", true),
            ("{ sender: { matches: \"^pay\" } }", false),
            ("{ sender: { in_list: vips } }", false),
            // recipient
            ("{ recipient: vip@example.org }", true),
            ("{ recipient: { in_list: vips } }", true),
            ("{ recipient: { starts_with: other } }", false),
            ("{ recipient_domain: [example.org] }", true),
            ("{ recipient_domain: [\"*.org\"] }", true),
            ("{ recipient_domain: [example.net] }", false),
            ("{ recipient_domain: { ends_with: .org } }", true),
            ("{ recipient_domain: { matches: \"^example\\\\.(net|com)$\" } }", false),
            // helo
            ("{ helo: mail.sender.example }", true),
            ("{ helo: { ends_with: .sender.example } }", true),
            ("{ helo: { contains: localhost } }", false),
            ("{ helo: { matches: \"^mail\\\\.\" } }", true),
            // tls
            ("{ tls: true }", true),
            ("{ tls: false }", false),
            ("{ tls_version: TLSv1.2 }", true),
            ("{ tls_version: TLSv1.3 }", false),
            ("{ tls_version: { at_least: TLSv1.2 } }", true),
            ("{ tls_version: { below: TLSv1.3 } }", true),
            ("{ tls_version: { below: TLSv1.2 } }", false),
            ("{ tls_version: { equals: [TLSv1.2] } }", true),
            ("{ tls_version: { equals: [TLSv1.3] } }", false),
            // authentication
            ("{ authenticated: true }", true),
            ("{ authenticated: false }", false),
            ("{ user: app@example.test }", true),
            ("{ user: { ends_with: \"@example.test\" } }", true),
            ("{ user: { starts_with: admin } }", false),
            // a component's condition, and several conditions in one statement (all must hold)
            ("{ listed: true }", true),
            ("{ listed: true, sender: { domain: [other.example] } }", false),
            ("{ listed: true }, { client_ip: [198.51.100.7/32] }", true),
        ]
        for (when, denies) in rows {
            let p = try policy(when)
            XCTAssertEqual(p.evaluate(facts).decision, denies ? .deny : .allow, when)
        }
    }

    func testRepliesAndConnectTimeDecisions() async throws {
        // Its own reply, as the client reads it.
        var facts = self.facts
        let own = AcceptPolicy(relay: RelayControl(localDomains: ["example.org"], trustedNetworks: []), policy: try policy("{ helo: { ends_with: sender.example } }", reply: "550 5.7.1 Your HELO is refused here"))
        do {
            try await own.checkRecipient(facts.recipient!, sender: facts.sender, client: facts.client, facts: &facts.verdicts)
            XCTFail("not denied")
        } catch let e as SMTPError {
            XCTAssertEqual(e.reply.description, "550 5.7.1 Your HELO is refused here")
        }
        // No reply of its own: the default refusal, with what the component's condition says; at connect time.
        let listed = AcceptPolicy(relay: RelayControl(localDomains: [], trustedNetworks: []), policy: try policy("{ listed: true }"))
        do {
            try await listed.checkConnection(facts.client, facts: &facts.verdicts)
            XCTFail("not denied at connect")
        } catch let e as SMTPError {
            XCTAssertEqual(e.reply.description, "554 5.7.1 Access denied: listed: seen in a trap")
        }
        facts.verdicts = MessageVerdicts()
        try await listed.checkConnection(facts.client, facts: &facts.verdicts)
    }

    func testBadOperatorsAndRepliesNameTheirPlace() {
        let cases: [(String, String?, String)] = [
            ("{ sender: { resembles: x } }", nil, "unknown key 'resembles'"),
            ("{ helo: { domain: [x.example] } }", nil, "'domain' applies to addresses"),
            ("{ sender: { matches: \"([\" } }", nil, "not a valid regular expression"),
            ("{ sender: { in_list: nosuch } }", nil, "address list 'nosuch' not found"),
            ("{ tls_version: { above: TLSv1.2 } }", nil, "unknown key 'above'"),
            ("{ tls_version: TLSv9 }", nil, "must be one of"),
            ("{ smell: bad }", nil, "unknown key 'smell'"),
            ("{ tls: true }", "250 ok", "a 4xx or 5xx code first"),
            ("{ tls: true }", "550 4.7.1 mixed", "does not match the reply code 550"),
            ("{ tls: true }", "550 5.7.1", "needs text after the code"),
        ]
        for (when, reply, reason) in cases {
            do {
                _ = try policy(when, reply: reply)
                XCTFail("accepted: \(when) \(reply ?? "")")
            } catch let e as ConfigError {
                XCTAssertTrue(e.reason.contains(reason), "\(when): \(e)")
                XCTAssertNotNil(e.line, "\(e)")
            } catch {
                XCTFail("\(error)")
            }
        }
    }
}
