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

    public func configure(_ runtime: inout RuntimeBuilder) throws {
        let c = runtime.config
        runtime.set(SenderIdentityCheck.Settings(trustedNetworks: c.trustedNetworks, trustedSenders: c.trustedSenders.map(SenderAllowList.init)))
        try runtime.register(SenderAuthorization.self)
    }

    public func activate(_ host: inout HostBuilder) throws {
        let file = host.config.credentialsFile
        // The daemon creates the store; a dry run reads it when it exists (no credentials: users may send as nothing).
        let store = host.mode == .daemon || FileManager.default.fileExists(atPath: file) ? try CredentialStore(path: file) : nil
        let runtime = host.environment.runtime
        let identity = SenderIdentityCheck(store: store) { runtime.current.senderIdentity }
        host.add(stage: SenderStage(check: identity), at: .sender)
        host.add(check: identity)
        guard let store else { return }
        try host.setAuthenticator { listener in
            let throttle = AuthThrottle(
                policy: AuthThrottlePolicy(maxFailures: listener.authMaxFailures, window: 60, baseDelay: listener.authFailureDelay))
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
