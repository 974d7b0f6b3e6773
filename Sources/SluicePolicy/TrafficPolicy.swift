// TrafficPolicy evaluation: the first statement whose conditions all match
// decides; no match means the default (SPEC R-SMTP-3). The policy itself is a
// configuration value (SluiceConfig); text conditions use the rules' string
// operators, and a component's conditions answer for themselves.

import SluiceConfig
import SluiceCore

extension TrafficPolicy {
    /// A decision, and the statement that made it (nil: the default).
    public struct Outcome: Sendable {
        public var decision: Decision
        public var statement: Statement?
        /// What the statement's component conditions say about why they held ("listed by zen: ...").
        public var detail: String?
    }

    /// The decision for one recipient of a session (or, with no recipient, for what is known).
    public func evaluate(_ facts: PolicyFacts) -> Outcome {
        for statement in statements where statement.conditions.allSatisfy({ matches($0, facts) }) {
            return Outcome(decision: statement.action, statement: statement, detail: detail(statement, facts))
        }
        return Outcome(decision: defaultAction)
    }

    public func evaluate(client: ClientInfo, recipient: MailAddress?) -> Decision {
        evaluate(PolicyFacts(client: client, recipient: recipient)).decision
    }

    /// The denial when the connection opens, if one can be made then: nil while a statement that could still decide
    /// depends on later facts, or when the answer is allow.
    public func evaluateAtConnect(_ facts: PolicyFacts) -> Outcome? {
        for statement in statements {
            guard statement.conditions.allSatisfy(\.isConnectionLevel) else { return nil }
            if statement.conditions.allSatisfy({ matches($0, facts) }) {
                return statement.action == .deny ? Outcome(decision: .deny, statement: statement, detail: detail(statement, facts)) : nil
            }
        }
        return defaultAction == .deny ? Outcome(decision: .deny) : nil
    }

    public func evaluateAtConnect(client: ClientInfo) -> Decision? {
        evaluateAtConnect(PolicyFacts(client: client))?.decision
    }

    func detail(_ statement: Statement, _ facts: PolicyFacts) -> String? {
        var parts: [String] = []
        for case .component(let c) in statement.conditions { if let d = c.detail(facts) { parts.append(d) } }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    func matches(_ condition: Condition, _ facts: PolicyFacts) -> Bool {
        let client = facts.client
        switch condition {
        case .clientIP(let networks):
            guard let ip = client.address else { return false }
            return networks.contains { $0.contains(ip) }
        case .recipient(let op):
            guard let r = facts.recipient else { return false }
            return op.test("\(r.unquotedLocalPart)@\(r.normalizedDomain)", isAddress: true)
        case .recipientDomain(let domains):
            guard let r = facts.recipient else { return false }
            return domains.contains { DomainMatch.matches(r.normalizedDomain, pattern: $0) }
        case .recipientDomainText(let op):
            guard let r = facts.recipient else { return false }
            return op.test(r.normalizedDomain, isAddress: false)
        case .sender(let op):
            // Asked at RCPT, after MAIL: no sender is the null sender <>, tested as "".
            return op.test(facts.sender.map { "\($0.unquotedLocalPart)@\($0.normalizedDomain)" } ?? "", isAddress: facts.sender != nil)
        case .helo(let op):
            guard let helo = client.helo else { return false }
            return op.test(helo, isAddress: false)
        case .tls(let wanted):
            return client.usesTLS == wanted
        case .tlsVersion(let test):
            guard let v = client.tlsVersion else { return false }
            switch test {
            case .atLeast(let minimum): return TLSVersionOrder.rank(v) >= TLSVersionOrder.rank(minimum)
            case .below(let limit): return TLSVersionOrder.rank(v) < TLSVersionOrder.rank(limit)
            case .equals(let versions): return versions.contains { TLSVersionOrder.rank($0) == TLSVersionOrder.rank(v) }
            }
        case .authenticated(let wanted):
            return (client.authenticatedUser != nil) == wanted
        case .user(let op):
            guard let u = client.authenticatedUser else { return false }
            return op.test(u, isAddress: u.contains("@"))
        case .component(let c):
            return c.holds(facts)
        }
    }
}

/// Domain patterns: "example.test" matches exactly; ".example.test" or "*.example.test" matches subdomains.
public enum DomainMatch {
    public static func matches(_ domain: String, pattern: String) -> Bool {
        var p = pattern.lowercased()
        if p.hasSuffix(".") { p.removeLast() }
        if p.hasPrefix("*.") { p.removeFirst() }
        if p.hasPrefix(".") { return domain.hasSuffix(p) && domain.count > p.count }
        return domain == p
    }
}

enum TLSVersionOrder {
    static func rank(_ v: String) -> Int {
        switch v.uppercased().replacingOccurrences(of: " ", with: "") {
        case "TLSV1", "TLSV1.0": return 10
        case "TLSV1.1": return 11
        case "TLSV1.2": return 12
        case "TLSV1.3": return 13
        default: return 0
        }
    }
}
