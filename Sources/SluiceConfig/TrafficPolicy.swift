// TrafficPolicy: a named traffic policy as configured (SPEC R-SMTP-3, Mail
// Manager's traffic policies): ordered allow/deny statements with conditions,
// each deny with its own reply if it says so, a default, a message size limit
// and rate limits. Values only; SluicePolicy evaluates them.

import SluiceCore

public struct TrafficPolicy: Sendable {
    public enum Decision: String, Sendable, Codable {
        case allow, deny
    }

    /// `tls_version: TLSv1.2` (at least), or `{ at_least: ... }`, `{ below: ... }`, `{ equals: [...] }`.
    public enum VersionTest: Sendable, Equatable {
        case atLeast(String)
        case below(String)
        case equals([String])
    }

    public enum Condition: Sendable {
        case clientIP([CIDR])
        /// The recipient address, with the string operators (`recipient: a@b` is equals, case-insensitive).
        case recipient(StringOperator)
        /// The recipient's domain is one of these patterns ("example.test", ".example.test" or "*.example.test").
        case recipientDomain([String])
        /// The recipient's domain, with the string operators.
        case recipientDomainText(StringOperator)
        /// The envelope sender (MAIL FROM; the null sender is the empty string).
        case sender(StringOperator)
        /// The name the client gave in HELO/EHLO.
        case helo(StringOperator)
        case tls(Bool)
        case tlsVersion(VersionTest)
        case authenticated(Bool)
        /// The authenticated user name.
        case user(StringOperator)
        /// A condition a component contributes (`dnsbl:`, `tls_client_cert:`).
        case component(any PolicyCondition)

        /// Whether this condition can be decided when the connection opens.
        public var isConnectionLevel: Bool {
            switch self {
            case .clientIP: return true
            case .component(let c): return c.isConnectionLevel
            default: return false
            }
        }
    }

    public struct Statement: Sendable {
        public var action: Decision
        public var conditions: [Condition]
        /// `reply: "550 5.7.1 text"`: what a deny answers instead of the default.
        public var reply: SMTPReply?

        public init(action: Decision, conditions: [Condition], reply: SMTPReply? = nil) {
            self.action = action
            self.conditions = conditions
            self.reply = reply
        }
    }

    public var name: String
    public var defaultAction: Decision
    public var statements: [Statement]
    public var maxMessageSize: Int?
    /// Messages/recipients per window per client IP, user or sender domain.
    public var rateLimits: [RateLimit] = []

    public init(name: String, defaultAction: Decision, statements: [Statement], maxMessageSize: Int? = nil) {
        self.name = name
        self.defaultAction = defaultAction
        self.statements = statements
        self.maxMessageSize = maxMessageSize
    }

    /// The verdicts its component conditions read (a DNS list's hits), so their checks run where it applies.
    public var reads: Set<String> {
        var out: Set<String> = []
        for s in statements {
            for case .component(let c) in s.conditions { out.formUnion(c.reads) }
        }
        return out
    }
}

/// Messages and/or recipients per window, per client IP, authenticated user or sender domain (R-SMTP-7).
public struct RateLimit: Sendable, Equatable {
    public enum Key: String, Sendable, CaseIterable {
        case clientIP = "client_ip"
        case user
        case senderDomain = "sender_domain"
    }

    public var key: Key
    public var messages: Int?
    public var recipients: Int?
    public var window: Double

    public init(key: Key, messages: Int?, recipients: Int?, window: Double) {
        self.key = key
        self.messages = messages
        self.recipients = recipients
        self.window = window
    }
}
