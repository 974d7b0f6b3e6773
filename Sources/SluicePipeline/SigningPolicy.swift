// SigningPolicy (R-CORE-2): a message is DKIM-signed for domain D only when
// it is authorised for D: an authenticated user whose allowed senders cover
// D, or a client in networks.trusted whose senders.trusted covers D (the
// sender stage found which), or when a rule says `dkim_sign: D`. Everything
// else leaves unsigned, and the note says why. A gateway that signed any mail
// claiming our domain would make DKIM and DMARC worthless for it. Pure.

import SluiceCore

public enum SigningPolicy {
    public struct Decision: Sendable, Equatable {
        /// The domains every route of the message is signed for (a rule's dkim_sign adds its own).
        public var domains: [String]
        /// Why, for the log.
        public var note: String
    }

    /// `hasKeys`: whether an active key signs for a domain.
    public static func decide(_ sender: SenderAuthorization?, client: ClientInfo, hasKeys: (String) -> Bool) -> Decision {
        guard let sender else { return Decision(domains: [], note: "unsigned: the sender was not checked") }
        guard let principal = sender.principal else {
            let who = client.address.map { "client \($0)" } ?? "the client"
            return Decision(domains: [], note: "unsigned: \(who) is neither authenticated nor in networks.trusted")
        }
        guard let domain = sender.fromDomains.first, sender.fromDomains.count == 1 else {
            return Decision(domains: [], note: "unsigned: From: does not name exactly one address")
        }
        guard hasKeys(domain) else { return Decision(domains: [], note: "unsigned: no active DKIM key for \(domain)") }
        return Decision(domains: [domain], note: "signed for \(domain): \(principal) may send as \(domain)")
    }
}
