// Streaming Content-Transfer-Encoding decoders and charset conversion for the
// MIME walker: base64 that skips damage (stray characters, missing padding),
// quoted-printable with soft line breaks and tolerance for bad escapes, and
// the charsets mail uses most, converted to UTF-8.

import Foundation

/// base64 fed line by line; invalid characters are skipped, a short tail is decoded as far as it goes.
struct Base64Stream {
    private var accumulator: UInt32 = 0
    private var count = 0
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 255, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { t[Int(c)] = UInt8(i) }
        t[Int(UInt8(ascii: "-"))] = 62  // base64url, seen in the wild
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    mutating func feed(_ line: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        // Grown geometrically: reserving the exact size per line reallocated (and copied) the whole
        // buffer for every line of an attachment collected whole, quadratic in its size.
        let needed = out.count + line.count * 3 / 4 + 3
        if out.capacity < needed { out.reserveCapacity(max(needed, out.capacity * 2)) }
        var acc = accumulator
        var n = count
        Self.table.withUnsafeBufferPointer { table in
            for c in line {
                let v = table[Int(c)]
                if v == 255 { continue }
                acc = acc << 6 | UInt32(v)
                n += 1
                if n == 4 {
                    out.append(UInt8(truncatingIfNeeded: acc >> 16))
                    out.append(UInt8(truncatingIfNeeded: acc >> 8))
                    out.append(UInt8(truncatingIfNeeded: acc))
                    n = 0
                    acc = 0
                }
            }
        }
        accumulator = acc
        count = n
    }

    /// A short tail (missing padding) is decoded as far as it goes.
    mutating func finish(into out: inout [UInt8]) {
        if count == 2 { out.append(UInt8(truncatingIfNeeded: accumulator >> 4)) }
        if count == 3 {
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        }
        accumulator = 0
        count = 0
    }
}

enum QuotedPrintable {
    /// One encoded line (without its line break) decoded; returns whether it ended in a soft break.
    static func decode(_ line: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        var end = line.endIndex
        while end > line.startIndex, line[end - 1] == 32 || line[end - 1] == 9 { end -= 1 }  // trailing space is padding
        var i = line.startIndex
        while i < end {
            let c = line[i]
            if c == UInt8(ascii: "=") {
                if i + 1 == end { return true }  // soft line break
                if i + 2 < end, let h = hex(line[i + 1]), let l = hex(line[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                out.append(c)  // a bad escape is kept as it is
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        return false
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}

enum Charset {
    /// Bytes in `charset` as UTF-8: UTF-8 and ASCII pass unchanged, Latin-1, Windows-1252 and UTF-16 are
    /// converted, unknown charsets are read as UTF-8 (malformed sequences repaired).
    static func toUTF8(_ bytes: [UInt8], charset: String) -> [UInt8] {
        switch charset.lowercased() {
        case "", "utf-8", "utf8", "us-ascii", "ascii":
            // As is: patterns match bytes, a malformed sequence is just non-ASCII bytes to them, and snippets
            // are repaired when they become strings. (Validating 64 KiB pieces cost 5% of a scan.)
            return bytes
        case "iso-8859-1", "latin1", "iso8859-1", "iso-8859-15", "l1":
            return Array(String(bytes.map { Character(Unicode.Scalar($0)) }).utf8)
        case "windows-1252", "cp1252":
            return Array(String(bytes.map { Character(windows1252($0)) }).utf8)
        case "utf-16", "utf-16le", "utf-16be":
            let data = Data(bytes)
            let encoding: String.Encoding = charset.lowercased() == "utf-16be" ? .utf16BigEndian : charset.lowercased() == "utf-16le" ? .utf16LittleEndian : .utf16
            return Array((String(data: data, encoding: encoding) ?? "").utf8)
        default:
            return Array(String(decoding: bytes, as: UTF8.self).utf8)
        }
    }

    static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static func windows1252(_ b: UInt8) -> Unicode.Scalar {
        if (0x80...0x9F).contains(b) { return Unicode.Scalar(cp1252High[Int(b) - 0x80]) ?? Unicode.Scalar(b) }
        return Unicode.Scalar(b)
    }
}

/// HTML reduced to text across chunks: tags dropped (block tags become spaces), scripts and styles
/// skipped, the common entities decoded. A number split by a tag ("4111<b>1111</b>") joins up.
struct HTMLText {
    private var inTag = false
    private var tag: [UInt8] = []
    private var skipping: String?
    private var entity: [UInt8]?

    mutating func feed(_ bytes: [UInt8], into out: inout [UInt8]) {
        for c in bytes {
            if inTag {
                if c == UInt8(ascii: ">") {
                    inTag = false
                    var name = String(decoding: tag.prefix { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }, as: UTF8.self).lowercased()
                    if name.count > 1, name.hasSuffix("/") { name.removeLast() }  // <br/>
                    if let s = skipping {
                        if name == "/" + s { skipping = nil }
                    } else if name == "script" || name == "style" {
                        skipping = name
                    } else if ["br", "p", "/p", "div", "/div", "tr", "/tr", "td", "li", "h1", "h2", "h3", "table"].contains(name) {
                        out.append(32)
                    }
                    tag.removeAll(keepingCapacity: true)
                } else if tag.count < 64 {
                    tag.append(c)
                }
                continue
            }
            if c == UInt8(ascii: "<") {
                inTag = true
                continue
            }
            if skipping != nil { continue }
            if var e = entity {
                if c == UInt8(ascii: ";") || e.count > 10 {
                    out.append(contentsOf: Self.entity(e))
                    entity = nil
                } else {
                    e.append(c)
                    entity = e
                }
                continue
            }
            if c == UInt8(ascii: "&") {
                entity = []
                continue
            }
            out.append(c)
        }
    }

    static func entity(_ name: [UInt8]) -> [UInt8] {
        let n = String(decoding: name, as: UTF8.self)
        switch n {
        case "amp": return [38]
        case "lt": return [60]
        case "gt": return [62]
        case "quot": return [34]
        case "apos": return [39]
        case "nbsp": return [32]
        // Typed separators by name (folded to ASCII by the engine, see TypedCharacters).
        case "ndash": return [0xE2, 0x80, 0x93]
        case "mdash": return [0xE2, 0x80, 0x94]
        case "hyphen", "dash": return [0xE2, 0x80, 0x90]
        case "numsp": return [0xE2, 0x80, 0x87]
        case "thinsp": return [0xE2, 0x80, 0x89]
        default:
            if n.hasPrefix("#x") || n.hasPrefix("#X"), let v = UInt32(n.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) {
                return Array(String(Character(s)).utf8)
            }
            if n.hasPrefix("#"), let v = UInt32(n.dropFirst()), let s = Unicode.Scalar(v) { return Array(String(Character(s)).utf8) }
            return Array("&\(n);".utf8)
        }
    }
}
