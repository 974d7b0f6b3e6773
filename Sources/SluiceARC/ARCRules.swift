// The rule language's ARC words: `arc: pass` (or fail, none, or a list) tests
// what the verify stage found of the chain the message arrived with (on
// listeners with `verify: [..., arc]`); `arc_seal: DOMAIN` seals the
// recipient's copies as they leave with the domain's active RSA key, checked
// at load as `dkim_sign:` is.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct ARCCondition: RuleCondition {
    public let wanted: Set<ARCResults.Status>
    /// `arc: { recorded: { dmarc: pass } }`: a passing chain whose trusted sealer recorded these results.
    public var recorded: [String: Set<String>] = [:]

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let r = context.verdicts[ARCResults.self], wanted.contains(r.status) else { return false }
        return recorded.allSatisfy { method, results in r.recorded[method].map(results.contains) ?? false }
    }

    public var explanation: String {
        guard !recorded.isEmpty else { return "arc is \(wanted.map(\.rawValue).sorted().joined(separator: " or "))" }
        let what = recorded.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.sorted().joined(separator: "|"))" }.joined(separator: " ")
        return "arc passes and a trusted sealer recorded \(what)"
    }

    public var reads: Set<String> { [ARCResults.name] }
}

public struct ARCConditionKind: RuleConditionKind {
    public let key = "arc"

    let trustedSealers: [String]

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        if !value.isScalar, value.node.sequence == nil {
            let m = try value.mapping(allowed: ["recorded"])
            guard let r = m["recorded"] else { throw value.error("arc takes pass, fail, none, a list of them, or { recorded: { METHOD: RESULT } }") }
            guard !trustedSealers.isEmpty else {
                throw r.error("arc: { recorded: ... } needs arc: { trusted_sealers: [...] } in sluice.yaml: whose records to believe")
            }
            var recorded: [String: Set<String>] = [:]
            for (method, results) in try r.namedEntries() {
                recorded[method.lowercased()] = Set(try (results.isScalar ? [results] : results.list()).map { try $0.nonEmptyString().lowercased() })
            }
            guard !recorded.isEmpty else { throw r.error("name at least one method, as { dmarc: pass }") }
            return ARCCondition(wanted: [.pass], recorded: recorded)
        }
        let words = value.isScalar ? [value] : try value.list()
        guard !words.isEmpty else { throw value.error("arc takes pass, fail, none or a list of them") }
        return ARCCondition(wanted: Set(try words.map { try $0.choice(ARCResults.Status.self) }))
    }
}

public struct ARCSealAction: RuleAction {
    public static let mark = "arc_seal"
    public let domain: String

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.mark(Self.mark, domain)
        return .next
    }

    public var logText: String { "arc_seal \(domain)" }

    public struct Kind: RuleActionKind {
        public let key = "arc_seal"
        let canSeal: @Sendable (String) -> Bool

        public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            let domain = try value.nonEmptyString().lowercased()
            guard canSeal(domain) else { throw value.error("no active RSA DKIM key of '\(domain)' can seal (add one under dkim:)") }
            return ARCSealAction(domain: domain)
        }
    }
}
