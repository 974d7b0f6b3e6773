// TrafficPolicy: a named traffic policy as configured (SPEC R-SMTP-3, Mail
// Manager's traffic policies): ordered allow/deny statements with conditions,
// a default, a message size limit and rate limits. Values only; SluicePolicy
// evaluates them.

import SluiceCore

public struct TrafficPolicy: Sendable {
    public enum Decision: String, Sendable, Codable {
        case allow, deny
    }

    public enum Condition: Sendable {
        case clientIP([CIDR])
        /// Recipient address equals one of these (case-insensitive domain, exact local part lowercased).
        case recipient([String])
        case recipientDomain([String])
        case tls(Bool)
        /// Negotiated TLS version at least this ("TLSv1.2", "TLSv1.3").
        case tlsVersionAtLeast(String)
        case authenticated(Bool)
        case user([String])

        /// Whether this condition can be decided when the connection opens.
        public var isConnectionLevel: Bool {
            if case .clientIP = self { return true }
            return false
        }
    }

    public struct Statement: Sendable {
        public var action: Decision
        public var conditions: [Condition]

        public init(action: Decision, conditions: [Condition]) {
            self.action = action
            self.conditions = conditions
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
