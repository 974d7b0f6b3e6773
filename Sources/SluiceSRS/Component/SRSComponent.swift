// SRSComponent: the Sender Rewriting Scheme as a component: `srs:` read
// here, its secret read when a runtime is built, the `rewrite_sender: srs`
// action and its modifier, and for bounces the SRS domain served (relay
// control accepts it), the RCPT check that refuses forged or stale
// addresses, and the stage that gives a bounce its original recipient.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct SRSComponent: Component {
    public let name = "srs"
    public var sections: [any ConfigSection.Type] { [SRSSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        if let s = runtime.config.srs {
            guard let data = FileManager.default.contents(atPath: s.secretFile) else {
                throw RuntimeError("srs: cannot read secret_file \(s.secretFile)")
            }
            let secret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            guard secret.count >= 16 else { throw RuntimeError("srs: secret_file \(s.secretFile) holds less than 16 characters") }
            // The file was just read; its mode only decides a warning.
            if let mode = (try? FileManager.default.attributesOfItem(atPath: s.secretFile))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
                runtime.warn("srs: secret_file \(s.secretFile) is readable by others; chmod 600 it")
            }
            runtime.set(SRSKey(srs: SRSAddress(domain: s.domain, secret: secret, maxAgeDays: Int(s.maxAge / 86400))))
        }
        try runtime.add(RewriteSenderAction.Kind(configured: runtime.config.srs != nil))
    }

    public func activate(_ host: inout HostBuilder) throws {
        let env = host.environment
        let runtime = env.runtime
        let clock = env.clock
        host.add(check: SRSRecipientCheck(runtime: runtime, clock: clock))
        host.add(stage: SRSReversalStage(clock: clock), at: .sender)
        host.add(modifier: SRSRewriteModifier(srs: { runtime.current.part(SRSKey.self)?.srs }, clock: clock), at: .transform)
    }
}
