// CertificatePrincipal: an entry of `certificates:` (SPEC §12), a client
// certificate that vouches for its mail as an authenticated user does: named
// by its SHA-256 fingerprint or by subject attributes, with the senders it
// may use. Relay control lets it relay, the sender identity check holds it to
// its senders, and the signing policy signs for them (R-CORE-2). Only a
// certificate the listener's `client_ca` verified is ever compared.

import SluiceCore

public struct CertificatePrincipal: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// "sha256:" and lowercase hex.
        case fingerprint(String)
        /// Subject attributes the certificate must all have ("CN=app1").
        case subject(String)
    }

    public var match: Match
    /// Domains (".example" for subdomains) and addresses it may send as; empty: none.
    public var senders: [String]

    public init(match: Match, senders: [String]) {
        self.match = match
        self.senders = senders
    }

    public func matches(_ certificate: ClientCertificate) -> Bool {
        switch match {
        case .fingerprint(let f): return certificate.fingerprint == f
        case .subject(let s): return certificate.subjectHas(s)
        }
    }

    /// How the log and replies name it.
    public var name: String {
        switch match {
        case .fingerprint(let f): return "client certificate \(f.prefix(19))…"
        case .subject(let s): return "client certificate \(s)"
        }
    }
}

extension [CertificatePrincipal] {
    /// The first entry the client's verified certificate matches.
    public func principal(for client: ClientInfo) -> CertificatePrincipal? {
        guard let certificate = client.clientCertificate else { return nil }
        return first { $0.matches(certificate) }
    }
}

extension SluiceConfiguration {
    static func readCertificates(_ node: ConfigNode) throws -> [CertificatePrincipal] {
        try node.list().map { item in
            let m = try item.mapping(allowed: ["fingerprint", "subject", "senders"])
            let match: CertificatePrincipal.Match
            switch (m["fingerprint"], m["subject"]) {
            case (let f?, nil):
                let text = try f.nonEmptyString()
                guard let normal = ClientCertificate.normalizedFingerprint(text) else {
                    throw f.error("expected a SHA-256 fingerprint such as \"sha256:3f2a...\" (64 hex digits, colons allowed), got '\(text)'")
                }
                match = .fingerprint(normal)
            case (nil, let s?):
                let text = try s.nonEmptyString()
                guard !ClientCertificate.attributes(text).isEmpty else {
                    throw s.error("expected subject attributes such as \"CN=app1\" or \"CN=app1,O=Example\", got '\(text)'")
                }
                match = .subject(text)
            default:
                throw item.error("a certificate needs exactly one of 'fingerprint:' or 'subject:'")
            }
            return CertificatePrincipal(match: match, senders: try m["senders"]?.stringList() ?? [])
        }
    }
}
