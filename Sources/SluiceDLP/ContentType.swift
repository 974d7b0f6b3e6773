// Content-Type and Content-Disposition values as the MIME walk reads them:
// the type, and parameters with RFC 2231 continuations and charsets.

import Foundation

/// "type/subtype; name=value; name*=utf-8''encoded" (RFC 2045, RFC 2231).
struct ContentType {
    let value: String
    let parameters: [String: String]

    init(_ header: String) {
        let pieces = Self.split(header)
        value = pieces.first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        var params: [String: String] = [:]
        var continued: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces.dropFirst() {
            guard let eq = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var v = piece[piece.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"") }
            let extended = name.hasSuffix("*")
            if extended { name.removeLast() }
            if let star = name.lastIndex(of: "*"), let n = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((n, v, extended))
            } else {
                params[name] = extended ? Self.decode2231(v, first: true) : v
            }
        }
        for (name, list) in continued where params[name] == nil {
            params[name] = list.sorted { $0.0 < $1.0 }.map { $0.2 ? Self.decode2231($0.1, first: $0.0 == 0) : $0.1 }.joined()
        }
        parameters = params
    }

    func parameter(_ name: String) -> String? { parameters[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// Splits at semicolons outside quotes.
    static func split(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        for c in s {
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted {
                out.append(cur)
                cur = ""
            } else {
                cur.append(c)
            }
        }
        out.append(cur)
        return out
    }

    /// charset'lang'percent-encoded (the charset part only on the first piece).
    static func decode2231(_ v: String, first: Bool) -> String {
        var text = Substring(v)
        var charset = "utf-8"
        if first {
            let parts = v.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3 {
                charset = String(parts[0])
                text = parts[2]
            }
        }
        var bytes: [UInt8] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "%", let end = text.index(i, offsetBy: 3, limitedBy: text.endIndex), let b = UInt8(text[text.index(after: i)..<end], radix: 16) {
                bytes.append(b)
                i = end
            } else {
                bytes += Array(String(c).utf8)
                i = text.index(after: i)
            }
        }
        return String(decoding: Charset.toUTF8(bytes, charset: charset), as: UTF8.self)
    }
}
