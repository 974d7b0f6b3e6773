// RuntimeBuilder: what components contribute to one runtime while it is
// built: the rule vocabulary, the target kinds and their configured
// instances, verdict types, each component's part (its per-runtime state,
// looked up by type), what signs, where mail of a listener without rules
// goes, and warnings. Runtime.build hands it to each component in list order,
// then loads the rule sets with the vocabulary.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct RuntimeBuilder {
    public let config: SluiceConfiguration
    /// The process's stores (DKIM keys a runtime signs with come from there).
    public let storage: Storage
    public private(set) var vocabulary: RuleVocabulary
    var parts: [ObjectIdentifier: any Sendable] = [:]
    var warnings: [String] = []
    var verdictTypes: [String: any Verdict.Type] = [:]
    /// Target kinds a component delivers, with the instances configured (empty for a kind with one, as send).
    var targetKinds: [String: Set<String>] = [:]
    /// Whether an active key signs for a domain (the component that signs sets it).
    public var canSign: @Sendable (String) -> Bool = { _ in false }
    /// Where mail of a listener without a rule set goes (the component that owns that target sets it).
    public var fallbackRoute: RouteTarget?

    init(config: SluiceConfiguration, storage: Storage) throws {
        self.config = config
        self.storage = storage
        vocabulary = try RuleVocabulary.message()
    }

    public mutating func add(_ kind: any RuleConditionKind) throws { try vocabulary.add(kind) }
    public mutating func add(_ kind: any RuleActionKind) throws { try vocabulary.add(kind) }

    /// This runtime's state of a component, found again by type (Runtime.part(_:)).
    public mutating func set<P: Sendable>(_ part: P) { parts[ObjectIdentifier(P.self)] = part }

    /// A part an earlier component of the list set.
    public func part<P: Sendable>(_ type: P.Type) -> P? { parts[ObjectIdentifier(P.self)] as? P }

    public mutating func warn(_ text: String) { warnings.append(text) }

    /// A verdict type: its stable name may be registered once.
    public mutating func register<V: Verdict>(_ type: V.Type) throws {
        if let other = verdictTypes[V.name], other != type {
            throw VocabularyError("two verdict types are named '\(V.name)'")
        }
        verdictTypes[V.name] = type
    }

    /// A kind of delivery target this component delivers, and its configured instances: the routes a rule set
    /// makes must name a declared kind (the host must have its target), and its actions check the instances.
    public mutating func declareTarget(kind: String, instances: Set<String> = []) throws {
        guard targetKinds[kind] == nil else { throw VocabularyError("two components deliver target kind '\(kind)'") }
        targetKinds[kind] = instances
    }
}
