// PolicyCondition: a condition of a traffic-policy statement that a
// component contributes (`dnsbl: zen`, `tls_client_cert: {...}`), beside the
// core's own (client_ip, sender, recipient, helo, tls, user ...). A kind
// parses its value once when the configuration loads, with file:line:column
// errors; the accept stage then asks the condition whether it holds for the
// session's facts so far (R-SMTP-3, R-ADDON-1).

import SluiceCore

/// What a policy statement can test: the client (with its HELO, TLS, user and certificate), the envelope so far,
/// and the facts the components' session checks recorded (a DNS-list hit).
public struct PolicyFacts: Sendable {
    public var client: ClientInfo
    public var sender: MailAddress?
    public var recipient: MailAddress?
    public var verdicts: MessageVerdicts

    public init(client: ClientInfo, sender: MailAddress? = nil, recipient: MailAddress? = nil, verdicts: MessageVerdicts = MessageVerdicts()) {
        self.client = client
        self.sender = sender
        self.recipient = recipient
        self.verdicts = verdicts
    }
}

public protocol PolicyCondition: Sendable {
    func holds(_ facts: PolicyFacts) -> Bool
    /// Whether it can be decided when the connection opens (after the connect-time session checks).
    var isConnectionLevel: Bool { get }
    /// The verdicts (by stable name) it reads: the checks that record them run where a listener's policy tests them.
    var reads: Set<String> { get }
    /// Why it held, for the refusal of a deny statement without its own `reply:` ("listed by zen: ..."); nil: nothing to add.
    func detail(_ facts: PolicyFacts) -> String?
}

extension PolicyCondition {
    public var isConnectionLevel: Bool { false }
    public var reads: Set<String> { [] }
    public func detail(_ facts: PolicyFacts) -> String? { nil }
}

/// A key of the policy statements' `when:` entries and the parser of its value.
public protocol PolicyConditionKind: Sendable {
    var key: String { get }
    func parse(_ value: ConfigNode, _ context: inout PolicyParseContext) throws -> any PolicyCondition
}

/// What a policy condition's parser may need: the sections the components read (`dnsbl:` names its lists) and
/// the address lists of rules_dir (`in_list:`), each read once per load.
public struct PolicyParseContext {
    public let rulesDirectory: String
    let sections: [String: any ConfigSection]
    var lists: [String: AddressList] = [:]

    init(rulesDirectory: String, sections: [String: any ConfigSection]) {
        self.rulesDirectory = rulesDirectory
        self.sections = sections
    }

    /// A component's section, by its type; nil when that component did not read one.
    public func section<S: ConfigSection>(_ type: S.Type) -> S? { sections[S.key] as? S }

    public mutating func list(named name: String, at node: ConfigNode) throws -> AddressList {
        if let l = lists[name] { return l }
        let l = try AddressList.load(named: name, rulesDirectory: rulesDirectory, at: node)
        lists[name] = l
        return l
    }

    /// `field: value`, `field: [a, b]` or `field: { OPERATOR: ... }` with the rules' string operators.
    public mutating func stringOperator(_ node: ConfigNode, addresses: Bool) throws -> StringOperator {
        try StringOperator.parse(node, addresses: addresses) { name, at in try list(named: name, at: at) }
    }
}
