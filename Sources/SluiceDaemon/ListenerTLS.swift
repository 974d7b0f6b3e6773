// ListenerTLS: each listener's own TLS server context, made from the
// configuration and replaced by a reload with the runtime (a rotated
// certificate applies to the next handshake). One context per listener, so
// that a listener can ask for client certificates of its own.

import Foundation
import Logging
import NIOSSL
import SluiceConfig
import SluiceServer

struct ListenerTLS {
    /// By listener name; listeners with tls: none have none.
    var contexts: [String: NIOSSLContext] = [:]

    /// Makes the certificate (self-signed, once) when a listener needs TLS and none exists, then one context each.
    static func make(_ config: SluiceConfiguration, logger: Logger) throws -> ListenerTLS {
        var out = ListenerTLS()
        guard config.listeners.contains(where: { $0.tls != .none }) else { return out }
        if try TLSMaterial.ensure(certificate: config.tls.certificate, key: config.tls.key, hostname: config.hostname) {
            logger.event(.tlsCertificate, level: .notice, "created a self-signed TLS certificate", [.file: config.tls.certificate])
        }
        for l in config.listeners where l.tls != .none {
            out.contexts[l.name] = try TLSMaterial.serverContext(certificate: config.tls.certificate, key: config.tls.key, clientCA: l.clientCA)
        }
        return out
    }
}

/// The listeners' TLS contexts in force, replaced together by a reload.
final class ListenerTLSHolders: Sendable {
    let holders: [String: TLSContextHolder]

    init(_ tls: ListenerTLS) { holders = tls.contexts.mapValues(TLSContextHolder.init) }

    func holder(for listener: String) -> TLSContextHolder? { holders[listener] }

    /// The new contexts of the listeners bound now (a listener added by a reload waits for the restart).
    func replace(with tls: ListenerTLS) {
        for (name, holder) in holders { if let context = tls.contexts[name] { holder.replace(context) } }
    }
}
