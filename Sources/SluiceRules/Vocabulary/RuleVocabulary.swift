// RuleVocabulary: the condition and action keys a rule file may use, each
// with its parser. The rule module contributes the message's own vocabulary
// (envelope, headers, client; reject, drop, stop, add_header ...); every
// component adds its own (`spf`, `dlp`, `relay`, `archive` ...), built with
// what the configuration defines so that names are checked at load.

import SluiceConfig

public struct RuleVocabulary: Sendable {
    public private(set) var conditions: [String: any RuleConditionKind] = [:]
    public private(set) var actions: [String: any RuleActionKind] = [:]

    public init() {}

    /// Adds a condition kind; a key another kind has already is a programming error, reported.
    public mutating func add(_ kind: any RuleConditionKind) throws {
        guard conditions[kind.key] == nil else { throw VocabularyError("two rule conditions are named '\(kind.key)'") }
        conditions[kind.key] = kind
    }

    public mutating func add(_ kind: any RuleActionKind) throws {
        guard actions[kind.key] == nil else { throw VocabularyError("two rule actions are named '\(kind.key)'") }
        actions[kind.key] = kind
    }

    /// The actions that may be written as a bare word, for messages.
    var bareWords: [String] { actions.values.filter(\.allowsBareWord).map(\.key).sorted() }
}

/// Two components contributing one key: the build of the runtime stops with this.
public struct VocabularyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
