// The name a DNS list is asked for an address (RFC 5782 §2.1, §2.4): the
// IPv4 octets reversed, or the IPv6 address's 32 nibbles reversed, before
// the list's zone; a domain list is asked for the domain itself (§2.3).

import SluiceCore

enum DNSListQuery {
    static func name(for address: IPAddress, zone: String) -> String {
        if address.isIPv4 {
            return address.bytes.reversed().map(String.init).joined(separator: ".") + "." + zone
        }
        let hex = Array("0123456789abcdef")
        var nibbles: [Character] = []
        for b in address.bytes {
            nibbles.append(hex[Int(b >> 4)])
            nibbles.append(hex[Int(b & 15)])
        }
        return nibbles.reversed().map(String.init).joined(separator: ".") + "." + zone
    }

    /// A domain a domain list can be asked about: lowercase ASCII labels, at least two, no address literal; nil otherwise.
    static func domain(_ text: String) -> String? {
        var d = text.lowercased()
        if d.hasSuffix(".") { d.removeLast() }
        let labels = d.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, d.count <= 253,
            labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } })
        else { return nil }
        return d
    }
}
