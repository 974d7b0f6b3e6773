// ARCComponent: Authenticated Received Chain (RFC 8617) as a component: the
// chain validated on listeners with `verify: [..., arc]` (a verdict with its
// own Authentication-Results line, the `arc:` condition), and this hop's ARC
// set added by `arc_seal: DOMAIN` with the domain's active RSA key from the
// DKIM key store, after DKIM signing.

import SluiceConfig
import SluiceCore
import SluiceMailAuth
import SluicePipeline

public struct ARCComponent: Component {
    public let name = "arc"
    public var sections: [any ConfigSection.Type] { [ARCSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        try runtime.register(ARCResults.self)
        try runtime.add(ARCConditionKind(trustedSealers: runtime.config.arcTrustedSealers))
        let keyring = runtime.part(DKIMKeyring.self) ?? DKIMKeyring([])
        try runtime.add(ARCSealAction.Kind(canSeal: { domain in keyring.signers(for: domain).contains { $0.key.algorithm == .rsaSHA256 } }))
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        if host.config.listeners.contains(where: { $0.verify.contains("arc") }) {
            guard let resolver = env.resolver else { throw RuntimeError("ARC verification needs the DNS resolver") }
            host.add(stage: ARCVerifyStage(verifier: ARCVerifier(resolver: resolver), io: env.executors.files), at: .verify)
        }
        let runtime = env.runtime
        host.add(
            modifier: ARCSealModifier(
                keyring: { runtime.current.part(DKIMKeyring.self) ?? DKIMKeyring([]) }, authservID: host.config.hostname, io: env.executors.cpu,
                clock: env.clock, logger: env.logger),
            at: .seal)
    }
}
