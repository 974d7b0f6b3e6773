// Rule conditions on the DNS lists: `dnsbl: NAME` holds when the block list
// NAME listed the client (or, for a domain list, its sender domain or HELO
// name), `dnswl: NAME` when the allow list NAME did. A list
// that is not configured, or of the other type, fails to load with
// file:line:column.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct DNSListCondition: RuleCondition {
    public let list: String
    public let kind: DNSList.Kind

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        context.verdicts[DNSListResults.self]?.hits[list] != nil
    }

    public var explanation: String { "the client is on the \(kind == .block ? "block" : "allow") list \(list)" }
    public var reads: Set<String> { [DNSListResults.name] }
}

public struct DNSListConditionKind: RuleConditionKind {
    public let key: String
    let kind: DNSList.Kind
    let lists: [String: DNSList]

    /// `dnsbl:` for block lists, `dnswl:` for allow lists.
    public init(kind: DNSList.Kind, lists: [String: DNSList]) {
        self.kind = kind
        self.key = kind == .block ? "dnsbl" : "dnswl"
        self.lists = lists
    }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        DNSListCondition(list: try Self.find(try value.nonEmptyString(), kind: kind, in: lists, at: value).name, kind: kind)
    }

    /// The list `name` of this kind, or the load error that says what is configured.
    static func find(_ name: String, kind: DNSList.Kind, in lists: [String: DNSList], at value: ConfigNode) throws -> DNSList {
        guard let list = lists[name] else {
            let known = lists.values.filter { $0.kind == kind }.map(\.name).sorted()
            throw value.error("no DNS list '\(name)' under dnsbl: (\(known.isEmpty ? "none is configured" : "known: " + known.joined(separator: ", ")))")
        }
        guard list.kind == kind else {
            throw value.error("'\(name)' is an \(list.kind == .allow ? "allow" : "block") list: test it with \(list.kind == .allow ? "dnswl" : "dnsbl"):")
        }
        return list
    }
}
