// AddressParser: the RFC 5321 path grammar (with the RFC 6531 SMTPUTF8
// extension): "<>", "<local@domain>", source routes "<@a,@b:local@domain>"
// (accepted and ignored, as RFC 5321 §4.1.2 and Appendix C require),
// quoted local parts and address literals.

import SluiceCore

public enum AddressError: Error, Equatable, Sendable {
    case syntax(String)
    case nonASCIIWithoutSMTPUTF8
    case tooLong
}

public enum AddressParser {
    public static let maxLocalPart = 64
    public static let maxDomain = 255
    public static let maxPath = 256

    /// Parses a reverse path; returns nil for the null sender "<>".
    public static func parseReversePath(_ text: Substring, allowUTF8: Bool) throws(AddressError) -> MailAddress? {
        if text == "<>" { return nil }
        return try parsePath(text, allowUTF8: allowUTF8)
    }

    /// Parses a path; also accepts a bare mailbox without brackets, as lenient MTAs do.
    public static func parsePath(_ text: Substring, allowUTF8: Bool) throws(AddressError) -> MailAddress {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxPath + 2 else { throw .tooLong }
        var inner = bytes[...]
        if inner.first == UInt8(ascii: "<") {
            guard inner.count >= 2, inner.last == UInt8(ascii: ">") else { throw .syntax("missing closing '>'") }
            inner = inner.dropFirst().dropLast()
        } else if inner.contains(UInt8(ascii: ">")) {
            throw .syntax("unbalanced '>'")
        }
        // Source route: "@a,@b:" -- skip it.
        if inner.first == UInt8(ascii: "@") {
            guard let colon = inner.firstIndex(of: UInt8(ascii: ":")) else { throw .syntax("bad source route") }
            let route = inner[inner.startIndex..<colon]
            for hop in route.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                guard hop.first == UInt8(ascii: "@"), isDomain(hop.dropFirst(), allowUTF8: allowUTF8) else {
                    throw .syntax("bad source route")
                }
            }
            inner = inner[inner.index(after: colon)...]
        }
        return try parseMailbox(inner, allowUTF8: allowUTF8)
    }

    static func parseMailbox(_ bytes: ArraySlice<UInt8>, allowUTF8: Bool) throws(AddressError) -> MailAddress {
        guard !bytes.isEmpty else { throw .syntax("empty address") }
        if !allowUTF8 && bytes.contains(where: { $0 >= 0x80 }) { throw .nonASCIIWithoutSMTPUTF8 }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .syntax("invalid UTF-8") }
        var i = bytes.startIndex
        // Local part.
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            var closed = false
            while i < bytes.endIndex {
                let b = bytes[i]
                if b == UInt8(ascii: "\\") {
                    guard i + 1 < bytes.endIndex, (32...126).contains(bytes[i + 1]) || bytes[i + 1] >= 0x80 else {
                        throw .syntax("bad quoted pair")
                    }
                    i += 2
                    continue
                }
                if b == UInt8(ascii: "\"") {
                    closed = true
                    i += 1
                    break
                }
                guard isQText(b) else { throw .syntax("bad character in quoted local part") }
                i += 1
            }
            guard closed else { throw .syntax("unterminated quoted local part") }
        } else {
            var atomLength = 0
            while i < bytes.endIndex, bytes[i] != UInt8(ascii: "@") {
                let b = bytes[i]
                if b == UInt8(ascii: ".") {
                    guard atomLength > 0 else { throw .syntax("empty atom in local part") }
                    atomLength = 0
                } else {
                    guard isAText(b) else { throw .syntax("bad character in local part") }
                    atomLength += 1
                }
                i += 1
            }
            guard atomLength > 0 else { throw .syntax("bad local part") }
        }
        let local = bytes[bytes.startIndex..<i]
        guard i < bytes.endIndex, bytes[i] == UInt8(ascii: "@") else { throw .syntax("missing '@domain'") }
        let domain = bytes[(i + 1)...]
        guard local.count <= maxLocalPart else { throw .tooLong }
        guard domain.count <= maxDomain else { throw .tooLong }
        if domain.first == UInt8(ascii: "[") {
            guard isAddressLiteral(domain) else { throw .syntax("bad address literal") }
        } else {
            // A single trailing dot is tolerated here and removed by normalisation.
            var d = domain
            if d.count > 1, d.last == UInt8(ascii: ".") { d = d.dropLast() }
            guard isDomain(d, allowUTF8: allowUTF8) else { throw .syntax("bad domain") }
        }
        return MailAddress(
            localPart: String(decoding: local, as: UTF8.self),
            domain: String(decoding: domain, as: UTF8.self))
    }

    static func isAText(_ b: UInt8) -> Bool {
        if b >= 0x80 { return true }  // UTF8-non-ascii; validated as UTF-8 above
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(b)
        }
    }

    static func isQText(_ b: UInt8) -> Bool {
        b >= 0x80 || b == 32 || b == 33 || (35...91).contains(b) || (93...126).contains(b)
    }

    static func isDomain(_ bytes: ArraySlice<UInt8>, allowUTF8: Bool) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxDomain else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else { return false }
            guard label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for b in label {
                let ok =
                    (b >= 0x80 && allowUTF8) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-")
                if !ok { return false }
            }
        }
        return true
    }

    static func isAddressLiteral(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 3, bytes.first == UInt8(ascii: "["), bytes.last == UInt8(ascii: "]") else { return false }
        let inner = String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self)
        if inner.lowercased().hasPrefix("ipv6:") {
            let addr = String(inner.dropFirst(5))
            return addr.contains(":") && IPAddress(addr) != nil
        }
        return !inner.contains(":") && IPAddress(inner)?.isIPv4 == true
    }
}
