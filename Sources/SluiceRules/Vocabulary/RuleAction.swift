// RuleAction: one entry of a rule's `then:` list, as loaded. An action kind
// (the key: `relay`, `quarantine`, `add_header` ...) parses its value once,
// checking every name it refers to against what is configured (an upstream,
// an archive, a key), so that a rule naming something that does not exist
// fails to load with file:line:column, never at delivery. Applied, an action
// changes what happens to one recipient (RecipientOutcome) and may end the
// evaluation.

import SluiceConfig
import SluiceCore

/// Whether evaluation goes on after an action.
public enum RuleFlow: Sendable, Equatable {
    case next
    /// drop, reject, bounce and stop end the evaluation for this recipient.
    case stop
}

/// The rule whose actions run, and the condition that decided it matched ("when dlp profile pci found: yes").
public struct RuleMatch: Sendable {
    public var rule: String
    public var why: String

    public init(rule: String, why: String) {
        self.rule = rule
        self.why = why
    }
}

public protocol RuleAction: Sendable {
    /// Carries the action out for one recipient; `context` is what the rules see of the message (its verdicts, for an
    /// action that writes what a scanner found).
    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow
    /// The action as logged and shown by `sluice rules test` ("relay smarthost").
    var logText: String { get }
    /// The route targets it may deliver to: their kinds must be delivered by some component (checked at load).
    var routes: [RouteTarget] { get }
}

extension RuleAction {
    public var routes: [RouteTarget] { [] }
}

/// A key of the rule language's actions and the parser of its value.
public protocol RuleActionKind: Sendable {
    /// The key as written in a rule file ("relay", "quarantine").
    var key: String { get }
    /// Whether it may be written as a bare word (`- drop`); `parse` then gets a null value.
    var allowsBareWord: Bool { get }
    /// The action `key: value` describes; errors point at `value`.
    func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction
}

extension RuleActionKind {
    public var allowsBareWord: Bool { false }
}
