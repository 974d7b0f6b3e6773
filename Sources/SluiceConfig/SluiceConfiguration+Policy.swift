// The `policies:` reader: statements whose `when:` entries are the core's
// conditions (client_ip, sender, recipient, recipient_domain, helo, tls,
// tls_version, authenticated, user; text compared with the rules' string
// operators) or a component's (PolicyConditionKind), and an optional
// `reply:` for a deny. Errors name file:line:column.

import SluiceCore

extension SluiceConfiguration {
    static let corePolicyConditions = [
        "client_ip", "sender", "recipient", "recipient_domain", "helo", "tls", "tls_version", "authenticated", "user",
    ]

    static func readPolicy(
        name: String, _ node: ConfigNode, kinds: [String: any PolicyConditionKind], context: inout PolicyParseContext
    ) throws -> TrafficPolicy {
        let m = try node.mapping(allowed: ["default", "max_message_size", "statements", "rate_limits"])
        guard let d = m["default"] else { throw node.error("a policy needs 'default: allow' or 'default: deny'") }
        let defaultAction = TrafficPolicy.Decision(rawValue: try d.oneOf(["allow", "deny"]))!
        var policy = TrafficPolicy(name: name, defaultAction: defaultAction, statements: [])
        if let s = m["max_message_size"] { policy.maxMessageSize = try s.size() }
        for item in try m["rate_limits"]?.list() ?? [] {
            let r = try item.mapping(allowed: ["per", "messages", "recipients", "window"])
            guard let per = r["per"] else { throw item.error("a rate limit needs 'per: client_ip', 'per: user' or 'per: sender_domain'") }
            let key = RateLimit.Key(rawValue: try per.oneOf(["client_ip", "user", "sender_domain"]))!
            let messages = try r["messages"]?.int(in: 1...100_000_000)
            let recipients = try r["recipients"]?.int(in: 1...100_000_000)
            guard messages != nil || recipients != nil else { throw item.error("a rate limit needs 'messages:' or 'recipients:' (or both)") }
            let window = try r["window"]?.duration() ?? 60
            guard window > 0 else { throw r["window"]!.error("must be longer than 0s") }
            policy.rateLimits.append(RateLimit(key: key, messages: messages, recipients: recipients, window: window))
        }
        for st in try m["statements"]?.list() ?? [] {
            let sm = try st.mapping(allowed: ["action", "when", "reply"])
            guard let a = sm["action"] else { throw st.error("a statement needs 'action: allow' or 'action: deny'") }
            let action = TrafficPolicy.Decision(rawValue: try a.oneOf(["allow", "deny"]))!
            var conditions: [TrafficPolicy.Condition] = []
            for c in try sm["when"]?.list() ?? [] {
                for (key, value) in try c.mapping(allowed: corePolicyConditions + kinds.keys.sorted()) {
                    conditions.append(try readPolicyCondition(key, value, kinds: kinds, context: &context))
                }
            }
            var statement = TrafficPolicy.Statement(action: action, conditions: conditions)
            if let r = sm["reply"] {
                guard action == .deny else { throw r.error("reply: applies to 'action: deny' statements") }
                statement.reply = try readReply(r)
            }
            policy.statements.append(statement)
        }
        return policy
    }

    static func readPolicyCondition(
        _ key: String, _ value: ConfigNode, kinds: [String: any PolicyConditionKind], context: inout PolicyParseContext
    ) throws -> TrafficPolicy.Condition {
        switch key {
        case "client_ip": return .clientIP(try value.cidrList())
        case "sender": return .sender(try context.stringOperator(value, addresses: true))
        case "recipient": return .recipient(try context.stringOperator(value, addresses: true))
        case "recipient_domain":
            if value.isScalar || value.node.sequence != nil { return .recipientDomain(try value.stringList()) }
            return .recipientDomainText(try context.stringOperator(value, addresses: false))
        case "helo": return .helo(try context.stringOperator(value, addresses: false))
        case "tls": return .tls(try value.bool())
        case "tls_version": return .tlsVersion(try readVersionTest(value))
        case "authenticated": return .authenticated(try value.bool())
        case "user": return .user(try context.stringOperator(value, addresses: false))
        default: return .component(try kinds[key]!.parse(value, &context))
        }
    }

    static let tlsVersions = ["TLSv1.2", "TLSv1.3"]

    static func readVersionTest(_ value: ConfigNode) throws -> TrafficPolicy.VersionTest {
        if value.isScalar { return .atLeast(try value.oneOf(tlsVersions)) }
        let m = try value.mapping(allowed: ["at_least", "below", "equals"])
        guard m.count == 1, let (op, v) = m.first else { throw value.error("use one of at_least, below or equals") }
        switch op {
        case "at_least": return .atLeast(try v.oneOf(tlsVersions))
        case "below": return .below(try v.oneOf(tlsVersions))
        default:
            let versions = try v.list().map { try $0.oneOf(["TLSv1", "TLSv1.1"] + tlsVersions) }
            return .equals(versions)
        }
    }

    /// `"550 5.7.1 text"`: a 4xx or 5xx code, an optional enhanced status of the same class, and text.
    static func readReply(_ node: ConfigNode) throws -> SMTPReply {
        let text = try node.nonEmptyString()
        var words = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first, first.count == 3, let code = Int(first), (400...599).contains(code) else {
            throw node.error("expected a reply such as \"550 5.7.1 Mail from your network is refused\" (a 4xx or 5xx code first), got '\(text)'")
        }
        words.removeFirst()
        var status: EnhancedStatus?
        if let word = words.first, let s = EnhancedStatus(word) {
            guard s.klass == code / 100 else { throw node.error("the enhanced status \(word) does not match the reply code \(code)") }
            status = s
            words.removeFirst()
        }
        let rest = words.joined(separator: " ")
        guard !rest.isEmpty, !rest.contains("\r"), !rest.contains("\n") else {
            throw node.error("a reply needs text after the code, on one line")
        }
        return SMTPReply(code, status, rest)
    }
}
