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

    /// The index keys of one address on one side ("s" sender, "r" recipient): the address itself
    /// ("s=alice@mail.corp.test") and each of its domains with at least two labels ("s@mail.corp.test",
    /// "s@corp.test"), so that a domain filter with its subdomains is one key.
    public static func keys(role: String, address: String) -> [String] {
        guard let at = address.lastIndex(of: "@") else { return [] }
        var keys = ["\(role)=\(address)"]
        var domain = Substring(address[address.index(after: at)...])
        while domain.contains(".") {
            keys.append("\(role)@\(domain)")
            domain = domain[domain.index(after: domain.firstIndex(of: ".")!)...]
        }
        return keys
    }

    /// The key an equality filter looks up (nil for a prefix, which is a range of address keys).
    public func key(role: String) -> String? {
        switch self {
        case .address(let a): return "\(role)=\(a)"
        case .domain(let d): return "\(role)@\(d)"
        case .prefix: return nil
        }
    }

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
