// Runtime: the one value a message is processed with. Configuration, rule
// sets (with their address lists), DLP profiles, DKIM keys and the sender
// identity settings are read and validated together, off the hot path, into
// one immutable value (R-CORE-4). The daemon swaps it whole on reload; a
// message sees one version from end of DATA to its plan. `sluice check`,
// `sluice reload` and `sluice rules test` build it with the same code, so
// what they accept is what the daemon accepts.

import Foundation
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluiceDLP
import SluiceMailAuth
import SluiceRules

public struct Runtime: Sendable {
    public let config: SluiceConfiguration
    /// Every rule set a listener names, by set name.
    public let ruleSets: [String: RuleSet]
    public let dlp: DLPScanner
    public let keyring: DKIMKeyring
    public let identity: SenderIdentityCheck.Settings

    /// Reads and validates everything; the first problem is thrown with file:line:column where it has one.
    public static func load(configFile: String) throws -> Runtime {
        try build(try SluiceConfiguration.load(file: configFile))
    }

    public static func build(_ config: SluiceConfiguration) throws -> Runtime {
        let book = try DLPBook.load(rulesDirectory: config.rulesDir)
        let keyring = try Self.dkimKeyring(config)
        var loader = RuleLoader(
            rulesDirectory: config.rulesDir, resolvePath: config.resolve, upstreams: Set(config.upstreams.keys),
            dlpProfiles: Set(book.profiles.keys), archives: Set(config.archives.keys), canSign: keyring.hasKeys(for:))
        var sets: [String: RuleSet] = [:]
        for name in Set(config.listeners.compactMap(\.rules)).sorted() {
            sets[name] = try loader.load(set: name)
        }
        return Runtime(
            config: config, ruleSets: sets, dlp: try DLPScanner(book: book), keyring: keyring,
            identity: .init(trustedNetworks: config.trustedNetworks, trustedSenders: config.trustedSenders.map(SenderAllowList.init)))
    }

    /// The rule set of a listener; nil when it has none (its mail goes to delivery.store).
    public func ruleSet(forListener name: String) -> RuleSet? {
        config.listeners.first { $0.name == name }?.rules.flatMap { ruleSets[$0] }
    }

    /// Whether the inspect stage reads messages of this listener: it has a rule set, and DLP profiles exist
    /// or the rules test attachments (nothing else needs the MIME structure).
    public func inspects(listener name: String) -> Bool {
        guard let set = ruleSet(forListener: name) else { return false }
        return !dlp.isEmpty || set.testsAttachments
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
