// `dnsbl: NAME` and `dnswl: NAME` in a traffic policy's statements: a block
// list's hit denies with the list's reason (at connect for an address list,
// at RCPT for a domain list), an allow list's hit lets a statement allow
// before a later deny. Names are checked against `dnsbl:` when the
// configuration loads, with file:line:column.

import SluiceConfig
import SluiceCore

struct DNSListPolicyCondition: PolicyCondition {
    let list: DNSList

    func holds(_ facts: PolicyFacts) -> Bool { facts.verdicts[DNSListResults.self]?.hits[list.name] != nil }
    var isConnectionLevel: Bool { list.listsAddresses }
    var reads: Set<String> { [DNSListResults.name] }

    func detail(_ facts: PolicyFacts) -> String? {
        facts.verdicts[DNSListResults.self]?.hits[list.name]?.refusalText(list: list.zone)
    }
}

struct DNSListPolicyConditionKind: PolicyConditionKind {
    let kind: DNSList.Kind
    var key: String { kind == .block ? "dnsbl" : "dnswl" }

    func parse(_ value: ConfigNode, _ context: inout PolicyParseContext) throws -> any PolicyCondition {
        let lists = context.section(DNSListSection.self)?.lists ?? [:]
        return DNSListPolicyCondition(list: try DNSListConditionKind.find(try value.nonEmptyString(), kind: kind, in: lists, at: value))
    }
}
