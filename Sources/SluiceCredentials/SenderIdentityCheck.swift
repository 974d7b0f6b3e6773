// SenderIdentityCheck: who may send as whom (R-AUTH-2), at MAIL FROM and on
// the From: header at end of DATA. An authenticated user may use what its
// principal allows (`creds add --allow-from`, "*" for anything); a trusted
// network what `senders.trusted` allows (unrestricted when that is not set);
// a client certificate of `certificates:` what its entry allows; other
// clients are not restricted here (their mail is inbound, for local
// domains, and is judged by SPF/DKIM/DMARC). This is what stops "echo
// spoofing" through a trusted relay, and the authorization it finds is what
// the signing policy signs on (R-CORE-2).

import SluiceConfig
import SluiceCore

public final class SenderIdentityCheck: SessionCheck {
    public struct Settings: Sendable {
        public var trustedNetworks: [CIDR]
        /// nil: trusted networks may use any sender.
        public var trustedSenders: SenderAllowList?
        /// `certificates:`: client certificates that vouch for their senders.
        public var certificates: [CertificatePrincipal]

        public init(trustedNetworks: [CIDR], trustedSenders: SenderAllowList?, certificates: [CertificatePrincipal] = []) {
            self.trustedNetworks = trustedNetworks
            self.trustedSenders = trustedSenders
            self.certificates = certificates
        }
    }

    let store: (any CredentialStoring)?
    /// The settings in force (the daemon's current runtime: a reload changes them for the next check).
    private let settings: @Sendable () -> Settings

    public init(store: (any CredentialStoring)?, settings: @escaping @Sendable () -> Settings) {
        self.store = store
        self.settings = settings
    }

    /// Who vouches for this client, and what it may use as sender (nil: anything).
    func principal(for client: ClientInfo, settings s: Settings) async throws -> (name: String, list: SenderAllowList?)? {
        if let user = client.authenticatedUser {
            guard let store else { return ("user \(user)", SenderAllowList([])) }
            return ("user \(user)", try await store.allowedSenders(user: user))
        }
        if let certificate = s.certificates.principal(for: client) {
            return (certificate.name, SenderAllowList(certificate.senders))
        }
        if let ip = client.address, let net = s.trustedNetworks.first(where: { $0.contains(ip) }) {
            return ("trusted network \(net)", s.trustedSenders)
        }
        return nil
    }

    static func allows(_ list: SenderAllowList?, localPart: String, domain: String) -> Bool {
        guard let list else { return true }
        return list.entries.contains("*") || list.allows(localPart: localPart, domain: domain)
    }

    public func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        guard let sender, let (name, list) = try await principal(for: client, settings: settings()) else { return }
        if !Self.allows(list, localPart: sender.unquotedLocalPart, domain: sender.normalizedDomain) {
            throw SMTPError(
                550, .init(5, 7, 1), "<\(sender)>: Sender address not allowed for \(name)",
                reason: "sender identity: \(sender) not in the allow list of \(name)")
        }
    }

    /// End of data: refuses a From: address the client's principal may not use (550 5.7.1), and otherwise says
    /// who vouches for the message and for which From: domain, which is what the signing policy needs.
    /// `settings` overrides the current ones (one runtime version per message).
    public func authorize(client: ClientInfo, headers: MessageHeaders, settings override: Settings? = nil) async throws -> SenderAuthorization {
        let s = override ?? settings()
        guard let (name, list) = try await principal(for: client, settings: s) else {
            return SenderAuthorization(principal: nil, fromDomains: [])
        }
        var domains: [String] = []
        for value in headers.values("From") {
            for (local, domain) in SenderAllowList.headerAddresses(value) {
                guard Self.allows(list, localPart: local, domain: domain) else {
                    throw SMTPError(
                        550, .init(5, 7, 1), "From: <\(local)@\(domain)> not allowed for \(name)",
                        reason: "sender identity: header From \(local)@\(domain) not allowed")
                }
                domains.append(domain.lowercased())
            }
        }
        // One From: address names one signing domain; several (or none) are never signed.
        return SenderAuthorization(principal: name, fromDomains: domains.count == 1 ? domains : [])
    }
}
