// RelayControl: the open-relay guard of R-SMTP-4. Mail for a domain that is not
// local is accepted only from a trusted network, an authenticated client or a
// client certificate of `certificates:`, and
// addresses that ask the receiver to route further ("a%b@local", "b!a@local",
// "\"a@b\"@local") are refused from anyone else. Domains compare normalised
// (lowercase, trailing dot removed); address literals are never local.

import SluiceConfig
import SluiceCore

public struct RelayControl: Sendable {
    public var localDomains: [String]
    public var trustedNetworks: [CIDR]
    /// This server's own names: postmaster@ them is always accepted (RFC 5321 §4.5.1).
    public var ownNames: [String]
    /// `certificates:`: a client whose verified certificate is one of these relays as an authenticated one does.
    public var certificates: [CertificatePrincipal]

    public init(localDomains: [String], trustedNetworks: [CIDR], ownNames: [String] = [], certificates: [CertificatePrincipal] = []) {
        self.certificates = certificates
        self.ownNames = ownNames.map { $0.lowercased() }
        self.localDomains = localDomains.map { d in
            var d = d.lowercased()
            if d.hasSuffix(".") { d.removeLast() }
            return d
        }
        self.trustedNetworks = trustedNetworks
    }

    public func isTrusted(_ client: ClientInfo) -> Bool {
        if client.authenticatedUser != nil || certificates.principal(for: client) != nil { return true }
        guard let ip = client.address else { return false }
        return trustedNetworks.contains { $0.contains(ip) }
    }

    public func isLocal(_ address: MailAddress) -> Bool {
        let domain = address.normalizedDomain
        guard !domain.hasPrefix("[") else { return false }
        return localDomains.contains { DomainMatch.matches(domain, pattern: $0) }
    }

    /// nil when the recipient may be accepted; otherwise the refusal.
    public func check(recipient: MailAddress, client: ClientInfo) -> SMTPError? {
        if isTrusted(client) { return nil }
        if recipient.hasSenderSpecifiedRouting {
            return SMTPError(
                550, .init(5, 7, 1), "<\(recipient)>: Relay access denied",
                reason: "sender-specified routing from untrusted client")
        }
        if isLocal(recipient) { return nil }
        if recipient.unquotedLocalPart.lowercased() == "postmaster", ownNames.contains(recipient.normalizedDomain) { return nil }
        return SMTPError(550, .init(5, 7, 1), "<\(recipient)>: Relay access denied", reason: "relay attempt")
    }
}
