// The name a DNS list is asked for an address (RFC 5782 §2.1, §2.4): the
// IPv4 octets reversed, or the IPv6 address's 32 nibbles reversed, before
// the list's zone.

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
}
