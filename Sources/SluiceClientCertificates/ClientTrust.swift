// ClientTrust: the revocation lists of the listeners that have `client_crl`,
// read when a runtime is built (so `sluice check` and a refused reload see a
// bad list), and the check that refuses a revoked certificate at MAIL FROM:
// the handshake verified the chain, this is what it cannot know.

import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline

public struct ClientTrust: Sendable {
    /// By listener name.
    public let revocations: [String: RevocationList]

    public static func load(_ config: SluiceConfiguration) throws -> ClientTrust {
        var lists: [String: RevocationList] = [:]
        for l in config.listeners {
            guard let crl = l.clientCRL, let ca = l.clientCA else { continue }
            do {
                lists[l.name] = try RevocationList.load(crlFile: crl, caFile: ca)
            } catch let e as RevocationList.LoadError {
                throw ConfigError(file: config.file, line: nil, column: nil, keyPath: "listeners.\(l.name).client_crl", reason: e.description)
            }
        }
        return ClientTrust(revocations: lists)
    }

    /// The refusal for a client whose certificate its listener's list revokes; nil otherwise.
    public func refusal(for client: ClientInfo) -> SMTPError? {
        guard let certificate = client.clientCertificate, let list = revocations[client.listener],
            list.isRevoked(serialNumber: certificate.serialNumber, issuer: certificate.issuer)
        else { return nil }
        return SMTPError(
            550, .init(5, 7, 1), "Client certificate revoked",
            reason: "client certificate \(certificate.subject) (serial \(certificate.serialNumber)) is on \(list.file)")
    }
}

/// At MAIL FROM, with the runtime current then (a reload that brings a new list applies to the next transaction).
struct RevocationCheck: SessionCheck {
    let runtime: RuntimeHolder

    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        if let refusal = runtime.current.part(ClientTrust.self)?.refusal(for: client) { throw refusal }
    }
}
