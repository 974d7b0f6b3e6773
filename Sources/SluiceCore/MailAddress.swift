// MailAddress: an envelope mailbox (local-part@domain) after RFC 5321 parsing.
// The domain is kept as received and also in a normalised form (lowercase,
// no trailing dot) that every comparison uses.

public struct MailAddress: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The local part as it appears on the wire (quoted form kept if it was quoted).
    public let localPart: String
    /// The domain as received (may be an address literal like "[127.0.0.1]").
    public let domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// Lowercased, trailing dot removed: what relay decisions and lists compare.
    public var normalizedDomain: String {
        var d = domain.lowercased()
        if d.hasSuffix(".") && !d.hasPrefix("[") { d.removeLast() }
        return d
    }

    /// The local part with quoting removed ("\"a b\"" -> "a b").
    public var unquotedLocalPart: String {
        guard localPart.hasPrefix("\""), localPart.hasSuffix("\""), localPart.count >= 2 else { return localPart }
        var out = ""
        var escaped = false
        for ch in localPart.dropFirst().dropLast() {
            if escaped {
                out.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else {
                out.append(ch)
            }
        }
        return out
    }

    /// True when the local part asks for further routing by the receiving
    /// host ("user%host", "host!user", quoted "user@host"): classic relay tricks.
    public var hasSenderSpecifiedRouting: Bool {
        let local = unquotedLocalPart
        return local.contains("%") || local.contains("!") || local.contains("@")
    }

    public var isASCII: Bool { description.utf8.allSatisfy { $0 < 0x80 } }

    public var description: String { "\(localPart)@\(domain)" }
}
