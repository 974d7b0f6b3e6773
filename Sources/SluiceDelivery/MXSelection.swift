// MXSelection: where direct delivery to one domain goes, from its MX answer
// (RFC 5321 §5.1): hosts in preference order (equal preferences shuffled to
// spread load), the domain itself when it has no MX (implicit MX), a final
// refusal for a null MX (RFC 7505) or a domain that does not exist, and loop
// protection when this host is one of the MX hosts. Pure: answers in, plan out.

import SluiceCore

public enum MXSelection {
    public struct Host: Sendable, Hashable {
        public var name: String
        public var preference: Int

        public init(name: String, preference: Int) {
            self.name = name
            self.preference = preference
        }
    }

    public static func hosts(
        domain: String, answer: DNSAnswer, ownHostname: String,
        shuffle: ([Host]) -> [Host] = { $0.shuffled() }
    ) -> Result<[Host], SMTPError> {
        switch answer.status {
        case .nxdomain:
            return .failure(SMTPError(550, .init(5, 1, 2), "Recipient domain \(domain) does not exist (DNS NXDOMAIN)"))
        case .noData:
            return .success([Host(name: domain, preference: 0)])
        case .ok:
            break
        }
        let records = answer.mx
        let real = records.filter { !$0.exchange.isEmpty }
        if real.isEmpty {
            if records.isEmpty { return .success([Host(name: domain, preference: 0)]) }
            return .failure(SMTPError(556, .init(5, 1, 10), "Recipient domain \(domain) accepts no mail (null MX, RFC 7505)"))
        }
        var hosts = Dictionary(grouping: real, by: \.preference).sorted { $0.key < $1.key }.flatMap { pref, group in
            shuffle(Array(Set(group.map { Host(name: $0.exchange.lowercased(), preference: pref) })))
        }
        // This host among the MX hosts: only more preferred ones may get the mail, else it would loop.
        let own = ownHostname.lowercased()
        if let mine = hosts.first(where: { $0.name == own }) {
            hosts = hosts.filter { $0.preference < mine.preference }
            if hosts.isEmpty {
                return .failure(SMTPError(554, .init(5, 4, 6), "Mail for \(domain) loops back to myself (\(own) is its best MX)"))
            }
        }
        return .success(hosts)
    }
}
