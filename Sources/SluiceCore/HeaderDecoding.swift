// HeaderDecoding: what rules compare in headers: RFC 2047 encoded words
// decoded (UTF-8 and Latin-1, B and Q), and the addresses of address lists.

import Foundation

public enum HeaderDecoding {
    /// "=?UTF-8?B?...?=" and "=?ISO-8859-1?Q?...?=" words decoded; anything else kept.
    public static func decodeEncodedWords(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var lastWasWord = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            let parts = afterStart.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, parts[3].hasPrefix("="),
                let decoded = decodeWord(charset: String(parts[0]), encoding: String(parts[1]), text: String(parts[2]))
            else {
                out += before + "=?"
                rest = afterStart
                lastWasWord = false
                continue
            }
            // Whitespace between two encoded words is dropped (RFC 2047 §6.2).
            if !(lastWasWord && before.allSatisfy({ $0 == " " || $0 == "\t" })) { out += before }
            out += decoded
            lastWasWord = true
            let consumed = parts[0].count + parts[1].count + parts[2].count + 4
            rest = afterStart.dropFirst(consumed)
        }
        return out + rest
    }

    public static func decodeWord(charset: String, encoding: String, text: String) -> String? {
        var bytes: [UInt8]
        switch encoding.uppercased() {
        case "B":
            var t = text
            while t.count % 4 != 0 { t += "=" }
            guard let d = Data(base64Encoded: t) else { return nil }
            bytes = Array(d)
        case "Q":
            bytes = []
            var it = Array(text.utf8)[...]
            while let b = it.popFirst() {
                if b == UInt8(ascii: "_") {
                    bytes.append(32)
                } else if b == UInt8(ascii: "="), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                    bytes.append(v)
                    it = it.dropFirst(2)
                } else {
                    bytes.append(b)
                }
            }
        default:
            return nil
        }
        switch charset.lowercased().split(separator: "*").first ?? "" {
        case "utf-8", "us-ascii": return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "windows-1252": return String(bytes.map { Character(Unicode.Scalar($0)) })
        default: return String(validating: bytes, as: UTF8.self)
        }
    }
}
