// Rule conditions on the DNS lists: `dnsbl: NAME` holds when the block list
// NAME listed the client, `dnswl: NAME` when the allow list NAME did. A list
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
        let name = try value.nonEmptyString()
        guard let list = lists[name] else {
            let known = lists.values.filter { $0.kind == kind }.map(\.name).sorted()
            throw value.error("no DNS list '\(name)' under dnsbl: (\(known.isEmpty ? "none is configured" : "known: " + known.joined(separator: ", ")))")
        }
        guard list.kind == kind else {
            throw value.error("'\(name)' is an \(list.kind == .allow ? "allow" : "block") list: test it with \(list.kind == .allow ? "dnswl" : "dnsbl"):")
        }
        return DNSListCondition(list: name, kind: kind)
    }
}
