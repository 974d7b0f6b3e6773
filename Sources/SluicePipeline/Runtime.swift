// Runtime: the one value a message is processed with. The configuration and
// what every component built from it (its rule vocabulary and per-runtime
// state: DLP profiles, DKIM keys, upstream pools, traffic policies ...), and
// the rule sets loaded with that vocabulary, read and validated together, off
// the hot path, into one immutable value (R-CORE-4). The daemon swaps it whole
// on reload; a message sees one version from end of DATA to its plan.
// `sluice check`, `sluice reload` and `sluice rules test` build it with the
// same code and the same component list, so what they accept is what the
// daemon accepts.

import Foundation
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore
import SluiceRules

public struct Runtime: Sendable {
    public let config: SluiceConfiguration
    /// Every rule set a listener names, by set name.
    public let ruleSets: [String: RuleSet]
    public let vocabulary: RuleVocabulary
    /// What is allowed but worth a warning (a password file others can read ...), for the log and `sluice check`.
    public let warnings: [String]
    /// What components say they do with this configuration ("listener mx: verifies ..."), for `sluice check`.
    public let notes: [String]
    /// The verdict types of the components, by stable name.
    public let verdictTypes: [String: any Verdict.Type]
    /// The kinds of delivery target the components deliver, with their configured instances.
    public let targetKinds: [String: Set<String>]
    /// Whether an active key signs for a domain.
    public let canSign: @Sendable (String) -> Bool
    /// Where mail of a listener without rules goes.
    public let fallbackRoute: RouteTarget
    let parts: [ObjectIdentifier: any Sendable]

    /// Reads the file with the components' section readers, then builds (with `storage`, or stores of its own).
    public static func load(configFile: String, components: [any Component], storage: Storage? = nil) async throws -> Runtime {
        let config = try SluiceConfiguration.load(file: configFile, sections: components.sections, policyConditions: components.policyConditions)
        return try await build(config, components: components, storage: storage ?? Storage(components: components, config: config))
    }

    /// Reads and validates everything; the first problem is thrown with file:line:column where it has one.
    public static func build(_ config: SluiceConfiguration, components: [any Component], storage: Storage) async throws -> Runtime {
        var b = try RuntimeBuilder(config: config, storage: storage)
        for c in components { try await c.configure(&b) }
        guard let fallback = b.fallbackRoute else {
            throw RuntimeError("no component delivers the mail of listeners without rules (delivery.store)")
        }
        var loader = RuleLoader(rulesDirectory: config.rulesDir, resolvePath: config.resolve, vocabulary: b.vocabulary)
        var sets: [String: RuleSet] = [:]
        for name in Set(config.listeners.compactMap(\.rules)).sorted() {
            let set = try loader.load(set: name)
            // An action makes routes only of kinds a component delivers: never a 451 "no target" at delivery.
            for action in set.allActions {
                for target in action.routes where b.targetKinds[target.kind] == nil {
                    throw RuntimeError("\(set.file): rule set '\(name)' delivers to '\(target.kind)', which no component delivers")
                }
            }
            sets[name] = set
        }
        let draft = Runtime(
            config: config, ruleSets: sets, vocabulary: b.vocabulary, warnings: b.warnings, notes: [], verdictTypes: b.verdictTypes,
            targetKinds: b.targetKinds, canSign: b.canSign, fallbackRoute: fallback, parts: b.parts)
        var warnings = b.warnings
        var notes: [String] = []
        for c in components {
            for note in c.review(draft) {
                switch note {
                case .warning(let w): warnings.append(w)
                case .info(let i): notes.append(i)
                }
            }
        }
        return Runtime(
            config: config, ruleSets: sets, vocabulary: b.vocabulary, warnings: warnings, notes: notes, verdictTypes: b.verdictTypes,
            targetKinds: b.targetKinds, canSign: b.canSign, fallbackRoute: fallback, parts: b.parts)
    }

    /// A component's state in this runtime, by type; nil when no component of the list set it.
    public func part<P: Sendable>(_ type: P.Type) -> P? { parts[ObjectIdentifier(P.self)] as? P }

    /// The settings of a listener; nil for one a reload removed (still bound until the restart).
    public func listener(_ name: String) -> ListenerSettings? { config.listeners.first { $0.name == name } }

    /// The rule set of a listener; nil when it has none (its mail goes to the fallback route).
    public func ruleSet(forListener name: String) -> RuleSet? {
        listener(name)?.rules.flatMap { ruleSets[$0] }
    }
}

/// A runtime that could not be built (a key that does not load, ...); config and rule errors are ConfigErrors.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The runtime the daemon runs on now, replaced whole by a reload. Each message reads it once.
public final class RuntimeHolder: Sendable {
    private let box: NIOLockedValueBox<Runtime>

    public init(_ runtime: Runtime) { box = NIOLockedValueBox(runtime) }

    public var current: Runtime { box.withLockedValue { $0 } }
    public func replace(_ runtime: Runtime) { box.withLockedValue { $0 = runtime } }
}
