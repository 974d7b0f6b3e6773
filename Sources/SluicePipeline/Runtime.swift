// Runtime: the one value a message is processed with. Configuration, rule
// sets (with their address lists), DLP profiles, DKIM keys and the sender
// identity settings are read and validated together, off the hot path, into
// one immutable value (R-CORE-4), with each listener's accept policy and the
// upstream pools. The daemon swaps it whole on reload; a
// message sees one version from end of DATA to its plan. `sluice check`,
// `sluice reload` and `sluice rules test` build it with the same code, so
// what they accept is what the daemon accepts.

import Foundation
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluiceArchive
import SluiceDLP
import SluiceDelivery
import SluiceMailAuth
import SluicePolicy
import SluiceRules

public struct Runtime: Sendable {
    public let config: SluiceConfiguration
    /// Every rule set a listener names, by set name.
    public let ruleSets: [String: RuleSet]
    public let dlp: DLPScanner
    public let keyring: DKIMKeyring
    public let identity: SenderIdentityCheck.Settings
    /// Each listener's accept stage (traffic policy, relay control, rate limits), by listener name.
    public let acceptPolicies: [String: AcceptPolicy]
    /// The upstream pools `relay:` delivers to, with their passwords read.
    public let upstreamPools: [UpstreamPool]
    /// What is allowed but worth a warning (a password file others can read ...), for the log and `sluice check`.
    public let warnings: [String]

    /// Reads and validates everything; the first problem is thrown with file:line:column where it has one.
    /// `limiters` keeps rate-limit counts across reloads (new limits apply when the runtime is swapped in).
    public static func load(configFile: String, limiters: RateLimiters = RateLimiters()) throws -> Runtime {
        try build(try SluiceConfiguration.load(file: configFile), limiters: limiters)
    }

    public static func build(_ config: SluiceConfiguration, limiters: RateLimiters = RateLimiters()) throws -> Runtime {
        let book = try DLPBook.load(rulesDirectory: config.rulesDir)
        let keyring = try Self.dkimKeyring(config)
        var vocabulary = try RuleVocabulary.message()
        try vocabulary.add(DLPConditionKind(profiles: Set(book.profiles.keys)))
        try vocabulary.add(AttachmentConditionKind())
        for m in AuthenticationMethod.allCases { try vocabulary.add(AuthenticationConditionKind(m)) }
        try vocabulary.add(DKIMSignActionKind(canSign: { keyring.hasKeys(for: $0) }))
        try vocabulary.add(ArchiveActionKind(archives: Set(config.archives.keys)))
        try vocabulary.add(StoreActionKind())
        try vocabulary.add(RelayActionKind(upstreams: Set(config.upstreams.keys)))
        try vocabulary.add(SendActionKind())
        try vocabulary.add(BounceAction.Kind())
        var loader = RuleLoader(rulesDirectory: config.rulesDir, resolvePath: config.resolve, vocabulary: vocabulary)
        var sets: [String: RuleSet] = [:]
        for name in Set(config.listeners.compactMap(\.rules)).sorted() {
            sets[name] = try loader.load(set: name)
        }
        var warnings: [String] = []
        let pools = try Self.upstreamPools(config, warnings: &warnings)
        // Rules that test verdicts a listener never computes match nothing there: say so.
        for l in config.listeners {
            guard let name = l.rules, let set = sets[name] else { continue }
            var verified = Set(l.verify.compactMap(AuthenticationMethod.init(rawValue:)))
            if verified.contains(.dmarc) { verified.formUnion([.spf, .dkim, .dmarcPolicy]) }
            let unverified = set.testedAuthentication.subtracting(verified).map(\.rawValue).sorted()
            if !unverified.isEmpty {
                warnings.append(
                    "listener \(l.name): rule set '\(name)' tests \(unverified.joined(separator: ", ")) but the listener does not verify "
                        + "them (add verify: [spf, dkim, dmarc]); those conditions match nothing there")
            }
        }
        // A domain with keys but none active signs nothing.
        for domain in Set(config.dkim.map { $0.domain.lowercased() }).sorted() where !keyring.hasKeys(for: domain) {
            warnings.append("dkim: \(domain) has keys but none is active; its mail leaves unsigned")
        }
        return Runtime(
            config: config, ruleSets: sets, dlp: try DLPScanner(book: book), keyring: keyring,
            identity: .init(trustedNetworks: config.trustedNetworks, trustedSenders: config.trustedSenders.map(SenderAllowList.init)),
            acceptPolicies: Self.acceptPolicies(config, limiters: limiters), upstreamPools: pools, warnings: warnings)
    }

    /// A listener's accept policy. A listener the configuration no longer names (removed by a reload, still
    /// bound until the restart) keeps relay control: never an open relay.
    public func acceptPolicy(forListener name: String) -> AcceptPolicy {
        acceptPolicies[name] ?? AcceptPolicy(relay: Self.relayControl(config), policy: nil)
    }

    static func relayControl(_ config: SluiceConfiguration) -> RelayControl {
        RelayControl(localDomains: config.localDomains, trustedNetworks: config.trustedNetworks, ownNames: [config.hostname])
    }

    static func acceptPolicies(_ config: SluiceConfiguration, limiters: RateLimiters) -> [String: AcceptPolicy] {
        let relay = relayControl(config)
        var out: [String: AcceptPolicy] = [:]
        for l in config.listeners {
            let policy = l.policy.flatMap { config.policies[$0] }
            out[l.name] = AcceptPolicy(relay: relay, policy: policy, limiter: policy.flatMap { limiters.limiter(for: $0) })
        }
        return out
    }

    /// The traffic policies in force, for `RateLimiters.apply` when this runtime is swapped in.
    public var trafficPolicies: [TrafficPolicy] { Array(config.policies.values) }

    /// The rule set of a listener; nil when it has none (its mail goes to delivery.store).
    public func ruleSet(forListener name: String) -> RuleSet? {
        config.listeners.first { $0.name == name }?.rules.flatMap { ruleSets[$0] }
    }

    /// Whether the inspect stage reads messages of this listener: it has a rule set, and DLP profiles exist
    /// or the rules test attachments (nothing else needs the MIME structure).
    public func inspects(listener name: String) -> Bool {
        guard let set = ruleSet(forListener: name) else { return false }
        return !dlp.isEmpty || set.reads.contains(InspectionResults.name)
    }

    /// The authentication methods a listener verifies (`verify:`).
    public func verifies(listener name: String) -> Set<AuthenticationMethod> {
        Set((config.listeners.first { $0.name == name }?.verify ?? []).compactMap(AuthenticationMethod.init(rawValue:)))
    }

    /// Where mail of a listener without rules goes.
    public var fallbackRoute: RouteTarget { .store(directory: config.delivery.storeDirectory) }
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
