// TrafficPolicy evaluation: the first statement whose conditions all match
// decides; no match means the default (SPEC R-SMTP-3). The policy itself is a
// configuration value (SluiceConfig).

import SluiceConfig
import SluiceCore

extension TrafficPolicy {
    /// The decision for one recipient of a session.
    public func evaluate(client: ClientInfo, recipient: MailAddress?) -> Decision {
        for statement in statements where statement.conditions.allSatisfy({ matches($0, client: client, recipient: recipient) }) {
            return statement.action
        }
        return defaultAction
    }

    /// The decision when the connection opens, if one can be made then: nil
    /// while a statement that could still decide depends on later facts.
    public func evaluateAtConnect(client: ClientInfo) -> Decision? {
        for statement in statements {
            guard statement.conditions.allSatisfy(\.isConnectionLevel) else { return nil }
            if statement.conditions.allSatisfy({ matches($0, client: client, recipient: nil) }) {
                return statement.action == .deny ? .deny : nil
            }
        }
        return defaultAction == .deny ? .deny : nil
    }

    func matches(_ condition: Condition, client: ClientInfo, recipient: MailAddress?) -> Bool {
        switch condition {
        case .clientIP(let networks):
            guard let ip = client.address else { return false }
            return networks.contains { $0.contains(ip) }
        case .recipient(let addresses):
            guard let r = recipient else { return false }
            let text = "\(r.unquotedLocalPart.lowercased())@\(r.normalizedDomain)"
            return addresses.contains { $0.lowercased() == text }
        case .recipientDomain(let domains):
            guard let r = recipient else { return false }
            return domains.contains { DomainMatch.matches(r.normalizedDomain, pattern: $0) }
        case .tls(let wanted):
            return client.usesTLS == wanted
        case .tlsVersionAtLeast(let minimum):
            guard let v = client.tlsVersion else { return false }
            return TLSVersionOrder.rank(v) >= TLSVersionOrder.rank(minimum)
        case .authenticated(let wanted):
            return (client.authenticatedUser != nil) == wanted
        case .user(let users):
            guard let u = client.authenticatedUser else { return false }
            return users.contains { $0.lowercased() == u.lowercased() }
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
