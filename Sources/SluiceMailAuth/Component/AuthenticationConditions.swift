// The message-authentication vocabulary of the rule language: conditions
// `spf:`, `dkim:`, `dmarc:` and `dmarc_policy:` on the verify stage's verdict
// (AuthenticationResults), and the action `dkim_sign: DOMAIN`, which only
// names domains an active key signs for (checked at load).

import SluiceConfig
import SluiceCore
import SluiceRules

/// A message authentication result (spf, dkim, dmarc, dmarc_policy) is one of these values.
public struct AuthenticationCondition: RuleCondition {
    public let method: AuthenticationMethod
    public let wanted: [String]

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let have = context.verdicts.authentication?.value(of: method) else { return false }
        return wanted.contains(have)
    }

    public var explanation: String { "\(method.rawValue) is \(wanted.joined(separator: " or "))" }
    public var reads: Set<String> { [AuthenticationResults.name] }
}

public struct AuthenticationConditionKind: RuleConditionKind {
    let method: AuthenticationMethod
    public var key: String { method.rawValue }

    public init(_ method: AuthenticationMethod) { self.method = method }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        let allowed = method.values
        let wanted = try value.stringList().map { $0.lowercased() }
        guard !wanted.isEmpty else { throw value.error("name at least one of: \(allowed.joined(separator: ", "))") }
        if let bad = wanted.first(where: { !allowed.contains($0) }) {
            throw value.error("'\(bad)' is not a \(key) verdict; use \(allowed.joined(separator: ", "))")
        }
        return AuthenticationCondition(method: method, wanted: wanted)
    }
}

/// `dkim_sign: example.test`: this mail is signed for the domain even when its sender is not authorised for it
/// (a forwarder, a list); only domains with an active key.
public struct DKIMSignAction: RuleAction {
    public let domain: String

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        if !outcome.dkimDomains.contains(domain) { outcome.dkimDomains.append(domain) }
        return .next
    }

    public var logText: String { "dkim_sign \(domain)" }
}

public struct DKIMSignActionKind: RuleActionKind {
    public let key = "dkim_sign"
    /// Whether an active key signs for a domain.
    let canSign: @Sendable (String) -> Bool

    public init(canSign: @escaping @Sendable (String) -> Bool) { self.canSign = canSign }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        let domain = try value.nonEmptyString().lowercased()
        guard canSign(domain) else {
            throw value.error("no active DKIM key signs for '\(domain)' (dkim: in the config; sluice dkim keygen)")
        }
        return DKIMSignAction(domain: domain)
    }
}

extension RuleSet {
    /// The authentication methods (spf, dkim, dmarc, dmarc_policy) its conditions test.
    public var testedAuthentication: Set<AuthenticationMethod> {
        Set(allConditions.compactMap { ($0 as? AuthenticationCondition)?.method })
    }
}
