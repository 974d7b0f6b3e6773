// SenderIdentityComponent: who may send as whom (R-AUTH) as a component.
// Each runtime reads networks.trusted and senders.trusted; the process opens
// the credential store, checks MAIL FROM against what the client's principal
// may use, checks the From: header at end of DATA (the sender stage, whose
// verdict the signing policy reads), and authenticates SMTP AUTH against the
// store behind each listener's failed-login throttle.

import SluiceConfig
import Foundation
import SluiceCore
import SluicePipeline

public struct SenderIdentityComponent: Component {
    public let name = "sender-identity"

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let c = runtime.config
        runtime.set(
            SenderIdentityCheck.Settings(
                trustedNetworks: c.trustedNetworks, trustedSenders: c.trustedSenders.map(SenderAllowList.init), certificates: c.certificates))
        try runtime.register(SenderAuthorization.self)
    }

    public func provideStores(_ stores: inout StoreRegistry) {
        stores.provide((any CredentialStoring).self) { context in
            let clock = context.clock
            return try SQLiteCredentialStore(path: context.config.credentialsFile, now: { clock.now() })
        }
        stores.provide((any AuthFailureCounting).self) { _ in MemoryAuthFailures() }
        stores.provide((any CredentialCopying).self) { context in
            let clock = context.clock
            return try SQLiteCredentialStore(path: context.config.credentialsFile, now: { clock.now() })
        }
    }

    public func activate(_ host: inout HostBuilder) throws {
        let env = host.environment
        // The daemon opens the store; a dry run reads the embedded one only when it exists (none: users may send as nothing).
        let embeddedAbsent = env.storage.backend == embeddedBackend && !FileManager.default.fileExists(atPath: host.config.credentialsFile)
        let store = host.mode == .daemon || !embeddedAbsent ? try env.storage.store((any CredentialStoring).self) : nil
        let runtime = env.runtime
        let identity = SenderIdentityCheck(store: store) { runtime.current.senderIdentity }
        host.add(stage: SenderStage(check: identity), at: .sender)
        host.add(check: identity)
        guard let store else { return }
        let failures = try env.storage.store((any AuthFailureCounting).self)
        let clock = env.clock
        try host.setAuthenticator { listener in
            let throttle = AuthThrottle(
                policy: AuthThrottlePolicy(maxFailures: listener.authMaxFailures, window: 60, baseDelay: listener.authFailureDelay),
                failures: failures, clock: clock)
            return CredentialAuthenticator(store: store, throttle: throttle)
        }
    }
}

extension Runtime {
    /// Who may send as whom in this runtime (networks.trusted, senders.trusted).
    public var senderIdentity: SenderIdentityCheck.Settings {
        part(SenderIdentityCheck.Settings.self) ?? .init(trustedNetworks: config.trustedNetworks, trustedSenders: nil)
    }
}
