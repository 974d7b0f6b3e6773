// The conditions on the message itself, which every rule set may use: the
// envelope (sender, recipient), header fields, the size, and the client
// (address, HELO, listener, TLS, AUTH), and `any:` for OR.

import SluiceConfig
import SluiceCore

/// What a string condition looks at.
public enum MessageField: Sendable, Equatable, CustomStringConvertible {
    case sender, recipient, helo, listener, user
    /// A header by name; From/To/Cc/Sender/Reply-To are compared address by address.
    case header(String)

    var holdsAddresses: Bool {
        switch self {
        case .sender, .recipient: return true
        case .header(let name): return ["from", "to", "cc", "sender", "reply-to"].contains(name.lowercased())
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .sender: return "sender"
        case .recipient: return "recipient"
        case .helo: return "helo"
        case .listener: return "listener"
        case .user: return "user"
        case .header(let n): return "header \(n)"
        }
    }

    func values(_ recipient: MailAddress, _ context: RuleContext) -> [String] {
        switch self {
        case .sender: return [context.sender.map(Self.addressText) ?? ""]
        case .recipient: return [Self.addressText(recipient)]
        case .helo: return context.client.helo.map { [$0] } ?? []
        case .listener: return [context.client.listener]
        case .user: return context.client.authenticatedUser.map { [$0] } ?? []
        case .header(let name):
            let raw = context.headers.values(name).map { HeaderDecoding.decodeEncodedWords($0) }
            guard holdsAddresses else { return raw }
            return raw.flatMap { mailboxAddresses(inAddressList: $0) }
        }
    }

    static func addressText(_ a: MailAddress) -> String { "\(a.unquotedLocalPart)@\(a.normalizedDomain)" }
}

public struct StringCondition: RuleCondition {
    public let field: MessageField
    public let op: StringOperator

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        field.values(recipient, context).contains { op.test($0, isAddress: field.holdsAddresses) }
    }

    public var explanation: String { "\(field) \(op.explanation)" }
}

struct StringConditionKind: RuleConditionKind {
    let key: String
    let field: MessageField

    func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        StringCondition(field: field, op: try loader.stringOperator(value, addresses: field.holdsAddresses))
    }
}

/// `header: { name: X-Mailer, contains: bulk }`
struct HeaderConditionKind: RuleConditionKind {
    let key = "header"

    func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        let hm = try value.mapping(allowed: ["name"] + StringOperator.keys)
        guard let n = hm["name"] else { throw value.error("a header condition needs 'name:' (the header field name)") }
        let field = MessageField.header(try n.nonEmptyString())
        var rest = hm
        rest["name"] = nil
        return StringCondition(field: field, op: try loader.stringOperator(entries: rest, at: value, addresses: field.holdsAddresses))
    }
}

/// `size: { gt: 10MB }` or `size: { lt: 1KB }`
struct SizeCondition: RuleCondition {
    let limit: Int
    let above: Bool

    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool { above ? context.size > limit : context.size < limit }
    var explanation: String { "size \(above ? ">" : "<") \(limit)" }

    struct Kind: RuleConditionKind {
        let key = "size"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
            let sm = try value.mapping(allowed: ["gt", "lt"])
            guard sm.count == 1 else { throw value.error("size takes one of 'gt:' or 'lt:', e.g. size: { gt: 10MB }") }
            if let gt = sm["gt"] { return SizeCondition(limit: try gt.size(), above: true) }
            return SizeCondition(limit: try sm["lt"]!.size(), above: false)
        }
    }
}

struct ClientIPCondition: RuleCondition {
    let networks: [CIDR]

    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let ip = context.client.address else { return false }
        return networks.contains { $0.contains(ip) }
    }

    var explanation: String { "client_ip in \(networks.map(\.description).joined(separator: ","))" }

    struct Kind: RuleConditionKind {
        let key = "client_ip"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition { ClientIPCondition(networks: try value.cidrList()) }
    }
}

struct TLSCondition: RuleCondition {
    let wanted: Bool
    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool { context.client.usesTLS == wanted }
    var explanation: String { "tls is \(wanted)" }

    struct Kind: RuleConditionKind {
        let key = "tls"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition { TLSCondition(wanted: try value.bool()) }
    }
}

struct TLSVersionCondition: RuleCondition {
    let atLeast: String

    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let have = context.client.tlsVersion else { return false }
        return Self.rank(have) >= Self.rank(atLeast)
    }

    var explanation: String { "tls_version >= \(atLeast)" }
    static func rank(_ v: String) -> Int { v == "TLSv1.3" ? 13 : v == "TLSv1.2" ? 12 : 0 }

    struct Kind: RuleConditionKind {
        let key = "tls_version"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
            TLSVersionCondition(atLeast: try value.oneOf(["TLSv1.2", "TLSv1.3"]))
        }
    }
}

struct AuthenticatedCondition: RuleCondition {
    let wanted: Bool
    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool { (context.client.authenticatedUser != nil) == wanted }
    var explanation: String { "authenticated is \(wanted)" }

    struct Kind: RuleConditionKind {
        let key = "authenticated"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
            AuthenticatedCondition(wanted: try value.bool())
        }
    }
}

/// `any: [ ... ]`: at least one of these holds.
public struct AnyCondition: RuleCondition {
    public let conditions: [any RuleCondition]

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        conditions.contains { $0.matches(recipient, context) }
    }

    public var explanation: String { "any(\(conditions.map(\.explanation).joined(separator: " | ")))" }
    public var nested: [any RuleCondition] { conditions }

    struct Kind: RuleConditionKind {
        let key = "any"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
            let items = try value.list()
            guard !items.isEmpty else { throw value.error("'any:' needs at least one condition") }
            return AnyCondition(conditions: try items.map { try loader.condition($0) })
        }
    }
}

extension RuleVocabulary {
    /// The conditions on the message itself.
    mutating func addMessageConditions() throws {
        let strings: [(String, MessageField)] = [
            ("sender", .sender), ("recipient", .recipient), ("from", .header("From")), ("to", .header("To")), ("cc", .header("Cc")),
            ("subject", .header("Subject")), ("helo", .helo), ("listener", .listener), ("user", .user),
        ]
        for (key, field) in strings { try add(StringConditionKind(key: key, field: field)) }
        try add(HeaderConditionKind())
        try add(SizeCondition.Kind())
        try add(ClientIPCondition.Kind())
        try add(TLSCondition.Kind())
        try add(TLSVersionCondition.Kind())
        try add(AuthenticatedCondition.Kind())
        try add(AnyCondition.Kind())
    }
}
