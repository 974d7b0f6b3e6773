// The rule model (SPEC §6): a rule set is an ordered list of rules; a rule has
// `when` conditions (all must match), `unless` conditions (none may match) and
// actions run in order. The conditions and actions are whatever the
// vocabulary's kinds parsed (RuleCondition, RuleAction). RuleLoader builds
// them from YAML and RuleEvaluator runs them per recipient.

import SluiceCore

public struct RuleSet: Sendable {
    public var name: String
    public var file: String
    public var rules: [Rule]

    public init(name: String, file: String, rules: [Rule]) {
        self.name = name
        self.file = file
        self.rules = rules
    }
}

public struct Rule: Sendable {
    public var name: String
    public var when: [any RuleCondition]
    public var unless: [any RuleCondition]
    public var actions: [any RuleAction]

    public init(name: String, when: [any RuleCondition], unless: [any RuleCondition], actions: [any RuleAction]) {
        self.name = name
        self.when = when
        self.unless = unless
        self.actions = actions
    }
}

extension RuleSet {
    /// Every condition of every rule, those nested in `any:` included.
    public var allConditions: [any RuleCondition] {
        func flatten(_ c: any RuleCondition) -> [any RuleCondition] { [c] + c.nested.flatMap(flatten) }
        return rules.flatMap { ($0.when + $0.unless).flatMap(flatten) }
    }

    public var allActions: [any RuleAction] { rules.flatMap(\.actions) }

    /// The verdicts (by stable name) its conditions read.
    public var reads: Set<String> { allConditions.reduce(into: Set<String>()) { $0.formUnion($1.reads) } }
}
