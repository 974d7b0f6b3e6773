// How `--from` and `--to` match addresses, so that each is an index lookup
// whatever the archive's size (the old substring match read every row):
//
//   alice@example.test    that address
//   @example.test         any address at that domain or its subdomains
//   example.test          the same (a word with a dot and no @)
//   alice@                addresses whose local part is alice
//   alice                 addresses starting with alice (alice@..., alice.smith@...)
//
// `--from` looks at the envelope sender and the From: addresses, `--to` at the
// envelope recipients and the To: and Cc: addresses; all lowercased.

import Foundation

public enum ArchiveAddressFilter: Equatable, Sendable {
    case address(String)
    case domain(String)
    case prefix(String)

    public init(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let at = t.lastIndex(of: "@") {
            let local = t[..<at]
            let domain = t[t.index(after: at)...]
            if local.isEmpty { self = .domain(String(domain)) } else if domain.isEmpty { self = .prefix(t) } else { self = .address(t) }
        } else if t.contains(".") && !t.hasPrefix(".") && !t.hasSuffix(".") {
            self = .domain(t)
        } else {
            self = .prefix(t)
        }
    }

    /// The domain reversed by labels' characters ("example.test" -> "tset.elpmaxe"), so that a domain and
    /// its subdomains are one range of an index: "tset.elpmaxe" and everything after "tset.elpmaxe.".
    public static func reversedDomain(_ domain: String) -> String { String(domain.lowercased().reversed()) }

    /// The addresses in a header field's value or an envelope list, lowercased, once each.
    public static func addresses(in text: String) -> [String] {
        var out: [String] = []
        for piece in text.split(whereSeparator: { " ,;<>\"()\t\r\n".contains($0) }) where piece.contains("@") {
            let a = piece.trimmingCharacters(in: CharacterSet(charactersIn: "'.:[]")).lowercased()
            guard let at = a.lastIndex(of: "@"), at != a.startIndex, a.index(after: at) != a.endIndex else { continue }
            if !out.contains(a) { out.append(a) }
        }
        return out
    }
}
