// SenderIdentityCheck: who may send as whom (R-AUTH-2), at MAIL FROM and on
// the From: header at end of DATA. An authenticated user may use what its
// principal allows (`creds add --allow-from`, "*" for anything); a trusted
// network what `senders.trusted` allows (unrestricted when that is not set);
// other clients are not restricted here (their mail is inbound, for local
// domains, and is judged by SPF/DKIM/DMARC). This is what stops "echo
// spoofing" through a trusted relay.

import NIOConcurrencyHelpers
import SluiceCore

public final class SenderIdentityCheck: SessionCheck, MessageCheck {
    public struct Settings: Sendable {
        public var trustedNetworks: [CIDR]
        /// nil: trusted networks may use any sender.
        public var trustedSenders: SenderAllowList?

        public init(trustedNetworks: [CIDR], trustedSenders: SenderAllowList?) {
            self.trustedNetworks = trustedNetworks
            self.trustedSenders = trustedSenders
        }
    }

    public let name = "sender-identity"
    let store: CredentialStore?
    private let settings: NIOLockedValueBox<Settings>

    public init(store: CredentialStore?, settings: Settings) {
        self.store = store
        self.settings = NIOLockedValueBox(settings)
    }

    public func replace(_ new: Settings) { settings.withLockedValue { $0 = new } }

    /// What this client may use as sender; nil when unrestricted.
    func allowList(for client: ClientInfo) async throws -> SenderAllowList? {
        if let user = client.authenticatedUser {
            guard let store else { return SenderAllowList([]) }
            return try await store.allowedSenders(user: user)
        }
        let s = settings.withLockedValue { $0 }
        if let ip = client.address, s.trustedNetworks.contains(where: { $0.contains(ip) }) {
            return s.trustedSenders
        }
        return nil
    }

    static func allows(_ list: SenderAllowList, localPart: String, domain: String) -> Bool {
        list.entries.contains("*") || list.allows(localPart: localPart, domain: domain)
    }

    public func checkSender(_ sender: MailAddress?, client: ClientInfo) async throws {
        guard let sender, let list = try await allowList(for: client) else { return }
        if !Self.allows(list, localPart: sender.unquotedLocalPart, domain: sender.normalizedDomain) {
            throw SMTPError(
                550, .init(5, 7, 1), "<\(sender)>: Sender address not allowed for \(who(client))",
                reason: "sender identity: \(sender) not in the allow list of \(who(client))")
        }
    }

    public func check(_ message: inout ReceivedMessage) async throws {
        guard let list = try await allowList(for: message.envelope.client) else { return }
        for value in message.headers.values("From") {
            for (local, domain) in SenderAllowList.headerAddresses(value) where !Self.allows(list, localPart: local, domain: domain) {
                throw SMTPError(
                    550, .init(5, 7, 1), "From: <\(local)@\(domain)> not allowed for \(who(message.envelope.client))",
                    reason: "sender identity: header From \(local)@\(domain) not allowed")
            }
        }
    }

    private func who(_ client: ClientInfo) -> String {
        client.authenticatedUser.map { "user \($0)" } ?? "this network"
    }
}
