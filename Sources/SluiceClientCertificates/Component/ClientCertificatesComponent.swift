// ClientCertificatesComponent: client-certificate ingress (R-SMTP-2 `auth:
// mtls`) as a component. The listener's TLS context asks for and verifies
// the certificate (`client_ca:`), the server records it as a session fact,
// and `certificates:` makes it a principal (relay control, sender identity,
// signing); this component adds what sits on top: the revocation lists
// (`client_crl:`) checked at MAIL FROM, the `tls_client_cert:` condition,
// `check` notes and a `status` section.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct ClientCertificatesComponent: Component {
    public let name = "client-certificates"
    public var policyConditions: [any PolicyConditionKind] { [ClientCertificateConditionKind()] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        runtime.set(try ClientTrust.load(runtime.config))
        try runtime.add(ClientCertificateConditionKind())
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        var notes: [CheckNote] = []
        let config = runtime.config
        let asking = config.listeners.filter { $0.clientCA != nil }
        if !config.certificates.isEmpty && asking.isEmpty {
            notes.append(.warning("certificates: no listener has client_ca:, so no client ever presents one of these certificates"))
        }
        for l in asking {
            notes.append(
                .info("listener \(l.name): asks clients for a certificate issued by \(l.clientCA!)" + (l.auth == .mtls ? " and refuses MAIL without one" : "")))
        }
        // `sluice check` runs once, now: the wall clock is the time it is asked about.
        let now = Date()
        for (listener, list) in (runtime.part(ClientTrust.self)?.revocations ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let next = list.nextUpdate, next < now {
                notes.append(
                    .warning("listener \(listener): client_crl \(list.file) expected its next update at \(ISO8601Time.utc(next)); fetch a fresh list from the CA"))
            }
        }
        return notes
    }

    public func activate(_ host: inout HostBuilder) throws {
        let runtime = host.environment.runtime
        let clock = host.environment.clock
        host.add(check: RevocationCheck(runtime: runtime))
        host.add(status: StatusSection(name: "client_certificates") {
            let current = runtime.current
            var listeners: [String: JSONValue] = [:]
            for l in current.config.listeners where l.clientCA != nil {
                var entry: [String: JSONValue] = ["client_ca": .string(l.clientCA!), "required": .bool(l.auth == .mtls)]
                if let list = current.part(ClientTrust.self)?.revocations[l.name] {
                    entry["client_crl"] = .string(list.file)
                    entry["revoked"] = .int(Int64(list.revoked.values.reduce(0) { $0 + $1.count }))
                    if let next = list.nextUpdate {
                        entry["next_update"] = .string(ISO8601Time.utc(next))
                        entry["stale"] = .bool(next < clock.now())
                    }
                }
                listeners[l.name] = .object(entry)
            }
            return .object(["listeners": .object(listeners), "principals": .int(Int64(current.config.certificates.count))])
        })
    }
}
