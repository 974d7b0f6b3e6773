// RuleCondition: one entry of a rule's `when:` or `unless:` list, as loaded.
// A condition kind (the key in the rule file: `sender`, `spf`, `dlp` ...)
// parses its value once, with file:line:column errors; the evaluator then
// asks the condition whether it holds for a recipient and, for `sluice rules
// test`, what it tested in words. Kinds come from components (RuleVocabulary),
// so a scanner's verdict is a condition without an edit here.

import SluiceConfig
import SluiceCore

public protocol RuleCondition: Sendable {
    /// Whether the condition holds for this recipient of the message.
    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool
    /// What it tests, in words ("spf is fail or softfail"), for `sluice rules test` and the log.
    var explanation: String { get }
    /// The verdicts (by stable name) it reads: their stages run where a listener's rules test them.
    var reads: Set<String> { get }
    /// The conditions inside it (`any:`), so that a walk over a rule set sees every condition.
    var nested: [any RuleCondition] { get }
}

extension RuleCondition {
    public var reads: Set<String> { [] }
    public var nested: [any RuleCondition] { [] }
}

/// A key of the rule language's conditions and the parser of its value.
public protocol RuleConditionKind: Sendable {
    /// The key as written in a rule file ("sender", "spf").
    var key: String { get }
    /// The condition `key: value` describes; errors point at `value` (ConfigNode.error).
    func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition
}
