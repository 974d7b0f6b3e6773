// The rules' string operators are StringOperator (SluiceConfig/Matching), the
// one implementation the traffic policies use too; a rule file's `in_list`
// names an address list of rules/lists, read once per load.

import SluiceConfig

extension RuleLoader {
    /// `field: value` (equals), `field: [a, b]`, or `field: { OPERATOR: ... }`.
    public mutating func stringOperator(_ node: ConfigNode, addresses: Bool) throws -> StringOperator {
        try StringOperator.parse(node, addresses: addresses) { name, at in try list(named: name, at: at) }
    }

    /// The one operator among `m`'s entries (a mapping that may also hold other keys, as `header:` does).
    public mutating func stringOperator(entries m: [String: ConfigNode], at node: ConfigNode, addresses: Bool) throws -> StringOperator {
        try StringOperator.parse(entries: m, at: node, addresses: addresses) { name, at in try list(named: name, at: at) }
    }
}
