// MailAuthComponent: message authentication as a component (R-MAUTH, R-CORE-2).
// Each runtime loads the active DKIM keys of `dkim:` once (a key that does not
// load stops the start or the reload) and says which domains can be signed;
// rules test `spf:`, `dkim:`, `dmarc:`, `dmarc_policy:` and may `dkim_sign:`.
// In the daemon, the verify stage checks SPF, DKIM and DMARC on listeners
// with `verify:`, forged Authentication-Results are removed as a message
// leaves, and DKIM signing is the last change made to it.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceRules

public struct MailAuthComponent: Component {
    public let name = "mail-auth"
    public var sections: [any ConfigSection.Type] { [DKIMSection.self] }
    /// Where the Public Suffix List is (Debian's publicsuffix package).
    let publicSuffixList: String

    public init(publicSuffixList: String = PublicSuffixList.debianPath) { self.publicSuffixList = publicSuffixList }

    public func provideStores(_ stores: inout StoreRegistry) {
        stores.provide((any DKIMKeyStore).self) { context in FileDKIMKeyStore(directory: context.config.dataDir + "/dkim") }
    }

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let keys = try await runtime.storage.store((any DKIMKeyStore).self).keys(configured: runtime.config.dkim)
        runtime.set(keys)
        let keyring = try DKIMKeyring.load(keys)
        runtime.set(keyring)
        runtime.canSign = { keyring.hasKeys(for: $0) }
        try runtime.register(AuthenticationResults.self)
        for m in AuthenticationMethod.allCases { try runtime.add(AuthenticationConditionKind(m)) }
        try runtime.add(DKIMSignActionKind(canSign: { keyring.hasKeys(for: $0) }))
        // A domain with keys but none active signs nothing.
        for domain in Set(keys.map { $0.domain.lowercased() }).sorted() where !keyring.hasKeys(for: domain) {
            runtime.warn("dkim: \(domain) has keys but none is active; its mail leaves unsigned")
        }
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        var notes: [CheckNote] = []
        if runtime.config.listeners.contains(where: { $0.verify.contains("dmarc") }), let problem = PublicSuffixList.load(publicSuffixList).problem {
            notes.append(
                .warning(
                    "dmarc: \(problem): organizational domains fall back to the last two labels, which is wrong for names such as "
                        + "example.co.uk; install Debian's publicsuffix"))
        }
        let active = (runtime.part([DKIMKeyRecord].self) ?? []).filter { $0.state == .active }
        if !active.isEmpty {
            let keys = active.map { "\($0.selector)._domainkey.\($0.domain) \($0.algorithm.rawValue)" }.joined(separator: ", ")
            notes.append(.info("dkim: ok (\(keys) signing)"))
        }
        for l in runtime.config.listeners {
            if !l.verify.isEmpty {
                let why = l.verifyConfigured ? "verify:" : "by default: it admits clients outside networks.trusted; verify: [] turns it off"
                notes.append(.info("listener \(l.name): verifies \(l.verify.sorted().joined(separator: ", ")) (\(why))"))
            }
            // Rules that test verdicts a listener never computes match nothing there: say so.
            guard let name = l.rules, let set = runtime.ruleSets[name] else { continue }
            var verified = runtime.verifies(listener: l.name)
            if verified.contains(.dmarc) { verified.formUnion([.spf, .dkim, .dmarcPolicy]) }
            let unverified = set.testedAuthentication.subtracting(verified).map(\.rawValue).sorted()
            if !unverified.isEmpty {
                notes.append(
                    .warning(
                        "listener \(l.name): rule set '\(name)' tests \(unverified.joined(separator: ", ")) but the listener does not verify "
                            + "them (add verify: [spf, dkim, dmarc]); those conditions match nothing there"))
            }
        }
        return notes
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        if host.config.listeners.contains(where: { !$0.verify.isEmpty }) {
            guard let resolver = env.resolver else { throw RuntimeError("mail authentication needs the DNS resolver") }
            let verifier = try MessageVerifier(hostname: host.config.hostname, resolver: resolver, io: env.executors.lookups)
            host.add(stage: VerifyStage(verifier: verifier), at: .verify)
        }
        host.add(modifier: AuthResultsScrubber(authservID: host.config.hostname, io: env.executors.files), at: .cleanup)
        // DKIM signing is the last change to the message: it signs it as it leaves, for the domains the signing
        // policy authorised, with the keys of the current runtime.
        let runtime = env.runtime
        host.add(
            modifier: DKIMSignModifier(
                keyring: { runtime.current.part(DKIMKeyring.self) ?? DKIMKeyring([]) }, io: env.executors.cpu, clock: env.clock, logger: env.logger),
            at: .sign)
    }
}

extension Runtime {
    /// The authentication methods a listener verifies (`verify:`).
    public func verifies(listener name: String) -> Set<AuthenticationMethod> {
        Set((listener(name)?.verify ?? []).compactMap(AuthenticationMethod.init(rawValue:)))
    }
}
