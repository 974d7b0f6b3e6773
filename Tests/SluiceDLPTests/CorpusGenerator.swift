// A labelled corpus generated for the recall/precision test: messages that mix
// sensitive values of every predefined detector with decoys that look alike
// (bad checksums, reserved numbers, hashes, order numbers), in plain text,
// HTML (values split by tags), quoted-printable (split by soft breaks),
// base64 bodies, base64 CSV attachments and zipped text attachments.
// Deterministic (seeded).

import Foundation

struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct LabelledMessage {
    var bytes: [UInt8]
    /// How many values of each detector the message holds.
    var expected: [String: Int]
}

struct CorpusGenerator {
    var rng = SeededRandom(state: 42)

    mutating func digits(_ n: Int) -> [Int] { (0..<n).map { _ in Int.random(in: 0...9, using: &rng) } }

    mutating func luhnCompleted(_ prefix: [Int], length: Int) -> [Int] {
        var d = prefix + digits(length - prefix.count - 1)
        for check in 0...9 where luhnOK(d + [check]) { return d + [check] }
        d.append(0)
        return d
    }

    func luhnOK(_ d: [Int]) -> Bool {
        var sum = 0
        for (i, x) in d.reversed().enumerated() { sum += i % 2 == 1 ? (x * 2 > 9 ? x * 2 - 9 : x * 2) : x }
        return sum % 10 == 0
    }

    mutating func card() -> String {
        let (prefix, length): ([Int], Int) = [([4], 16), ([5, 1 + Int.random(in: 0...4, using: &rng)], 16), ([3, 7], 15), ([6, 0, 1, 1], 16)]
            .randomElement(using: &rng)!
        let d = luhnCompleted(prefix, length: length)
        let s = d.map(String.init).joined()
        switch Int.random(in: 0...2, using: &rng) {
        case 0: return s
        case 1: return stride(from: 0, to: s.count, by: 4).map { i in String(Array(s)[i..<min(s.count, i + 4)]) }.joined(separator: " ")
        default: return stride(from: 0, to: s.count, by: 4).map { i in String(Array(s)[i..<min(s.count, i + 4)]) }.joined(separator: "-")
        }
    }

    mutating func badCard() -> String {
        var d = luhnCompleted([4], length: 16)
        d[15] = (d[15] + 1 + Int.random(in: 0...8, using: &rng)) % 10  // breaks Luhn
        return d.map(String.init).joined()
    }

    mutating func ssn() -> String {
        var area = Int.random(in: 1...899, using: &rng)
        if area == 666 { area = 665 }
        return String(format: "%03d-%02d-%04d", area, Int.random(in: 1...99, using: &rng), Int.random(in: 1...9999, using: &rng))
    }

    mutating func badSSN() -> String {
        [String(format: "000-%02d-%04d", Int.random(in: 1...99, using: &rng), Int.random(in: 1...9999, using: &rng)),
         String(format: "666-%02d-%04d", Int.random(in: 1...99, using: &rng), Int.random(in: 1...9999, using: &rng)),
         String(format: "9%02d-%02d-%04d", Int.random(in: 0...99, using: &rng), Int.random(in: 1...99, using: &rng), Int.random(in: 1...9999, using: &rng)),
         "078-05-1120"].randomElement(using: &rng)!
    }

    mutating func iban(valid: Bool = true) -> String {
        let (cc, bban): (String, String) = [
            ("DE", digits(18).map(String.init).joined()), ("GB", "WEST" + digits(14).map(String.init).joined()),
            ("NL", "ABNA" + digits(10).map(String.init).joined()), ("FR", digits(23).map(String.init).joined()),
        ].randomElement(using: &rng)!
        var remainder = 0
        for c in bban + cc + "00" {
            if let v = c.wholeNumberValue { remainder = (remainder * 10 + v) % 97 } else { remainder = (remainder * 100 + Int(c.asciiValue!) - 55) % 97 }
        }
        var check = 98 - remainder
        if !valid { check = (check + 1 + Int.random(in: 0...50, using: &rng)) % 97 + 2 }
        let s = cc + String(format: "%02d", check) + bban
        return Bool.random(using: &rng) ? s : stride(from: 0, to: s.count, by: 4).map { i in String(Array(s)[i..<min(s.count, i + 4)]) }.joined(separator: " ")
    }

    mutating func upper(_ n: Int) -> String { String((0..<n).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".randomElement(using: &rng)! }) }
    mutating func mixed(_ n: Int) -> String {
        String((0..<n).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+".randomElement(using: &rng)! })
    }

    mutating func jwt() -> String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        return b64(#"{"alg":"HS256","typ":"JWT"}"#) + "." + b64("{\"sub\":\"\(Int.random(in: 1...999_999, using: &rng))\",\"role\":\"user\"}") + "."
            + mixed(43).replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-")
    }

    static let words = ["report", "meeting", "quarterly", "invoice", "shipment", "update", "team", "schedule", "budget", "review", "draft", "notes"]

    mutating func filler() -> String {
        (0..<Int.random(in: 4...12, using: &rng)).map { _ in Self.words.randomElement(using: &rng)! }.joined(separator: " ")
    }

    /// Sensitive lines with their detector, and decoy lines.
    mutating func sensitive() -> (String, String) {
        switch Int.random(in: 0...8, using: &rng) {
        case 0: return ("credit_card", "Card number: \(card()) exp 11/28")
        case 1: return ("us_ssn", "SSN \(ssn()) on file")
        case 2: return ("iban", "Please pay to IBAN \(iban())")
        case 3: return ("aws_access_key_id", "key id \(["AKIA", "ASIA"].randomElement(using: &rng)!)\(upper(16)) rotated")
        case 4:
            var s = mixed(40)
            if !s.contains(where: \.isNumber) { s = "7" + s.dropFirst() }
            if !s.contains(where: \.isLowercase) { s = "q" + s.dropFirst() }
            if !s.contains(where: \.isUppercase) { s = "Q" + s.dropFirst() }
            return ("aws_secret_access_key", "aws_secret_access_key = \(s)")
        case 5: return ("private_key", "-----BEGIN \(["RSA ", "EC ", "OPENSSH ", ""].randomElement(using: &rng)!)PRIVATE KEY-----")
        case 6: return ("email_address", "contact \(["jane", "ops", "j.smith", "billing"].randomElement(using: &rng)!)\(Int.random(in: 1...999, using: &rng))@\(["example", "corp-mail", "acme"].randomElement(using: &rng)!).\(["com", "org", "de"].randomElement(using: &rng)!) today")
        case 7:
            var area = Int.random(in: 201...989, using: &rng)
            if area % 100 == 11 { area += 1 }  // N11 codes (411, 911 ...) are not area codes
            return ("phone_number", "call (\(area)) \(Int.random(in: 200...999, using: &rng))-\(String(format: "%04d", Int.random(in: 0...9999, using: &rng)))")
        default: return ("jwt", "Authorization: Bearer \(jwt())")
        }
    }

    mutating func decoy() -> String {
        switch Int.random(in: 0...7, using: &rng) {
        case 0: return "Order \(badCard()) shipped"
        case 1: return "Reference \(badSSN())"
        case 2: return "Account \(iban(valid: false)) closed"
        case 3: return "sha1 \(String((0..<40).map { _ in "0123456789abcdef".randomElement(using: &rng)! }))"
        case 4: return "build \(Int.random(in: 1...9, using: &rng)).\(Int.random(in: 0...20, using: &rng)).\(Int.random(in: 0...99, using: &rng)) released on 2026-11-\(String(format: "%02d", Int.random(in: 1...28, using: &rng)))"
        case 5: return "tracking 1Z\(upper(16)) via carrier"
        case 6: return "ticket #\(digits(9).map(String.init).joined()) opened"
        default: return "checksum \(mixed(40)) of the build artifact"
        }
    }

    mutating func message(_ n: Int) -> LabelledMessage {
        var expected: [String: Int] = [:]
        var lines: [String] = []
        for _ in 0..<Int.random(in: 2...6, using: &rng) {
            lines.append(filler())
            if Bool.random(using: &rng) {
                let (d, line) = sensitive()
                expected[d, default: 0] += 1
                lines.append(line)
            }
            if Bool.random(using: &rng) { lines.append(decoy()) }
        }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        let head = "From: sender\(n)@sender.test\r\nTo: rcpt@rcpt.test\r\nSubject: corpus \(n)\r\nMIME-Version: 1.0\r\n"
        var body: String
        switch n % 6 {
        case 0:
            body = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
        case 1:
            // HTML: every line in a paragraph, digits of the first number split by an inline tag.
            let html = lines.map { line -> String in
                var l = line.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                if let r = l.range(of: #"\d{4}"#, options: .regularExpression) { l.replaceSubrange(r, with: "<b>" + l[r] + "</b>") }
                return "<p>\(l)</p>"
            }.joined(separator: "\r\n")
            body = head + "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n" + html + "\r\n</body></html>\r\n"
        case 2:
            body = head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + Self.qp(text)
        case 3:
            body = head + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Data(text.utf8).base64EncodedString(options: .lineLength76Characters) + "\r\n"
        case 5:
            let zip = Self.storedZip(name: "export\(n).txt", data: Array(text.utf8))
            body = head + "Content-Type: multipart/mixed; boundary=\"=_z\(n)\"\r\n\r\n--=_z\(n)\r\nContent-Type: text/plain\r\n\r\nZipped.\r\n--=_z\(n)\r\n"
                + "Content-Type: application/zip; name=\"export\(n).zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Data(zip).base64EncodedString(options: .lineLength76Characters) + "\r\n--=_z\(n)--\r\n"
        default:
            body = head + "Content-Type: multipart/mixed; boundary=\"=_b\(n)\"\r\n\r\n--=_b\(n)\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n--=_b\(n)\r\n"
                + "Content-Type: text/csv; name=\"data\(n).csv\"\r\nContent-Disposition: attachment; filename=\"data\(n).csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Data(text.utf8).base64EncodedString(options: .lineLength76Characters) + "\r\n--=_b\(n)--\r\n"
        }
        return LabelledMessage(bytes: Array(body.utf8), expected: expected)
    }

    /// A zip archive with one stored entry (no compression; the reader does not check CRCs).
    static func storedZip(name: String, data: [UInt8]) -> [UInt8] {
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16(v >> 16 & 0xFFFF) }
        let n = Array(name.utf8)
        let local = le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(data.count) + le32(data.count)
            + le16(n.count) + le16(0) + n + data
        let central = le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(data.count)
            + le32(data.count) + le16(n.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(0) + n
        let end = le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(central.count) + le32(local.count) + le16(0)
        return local + central + end
    }

    /// Quoted-printable with soft breaks every 30 characters (values get split across lines).
    static func qp(_ text: String) -> String {
        var out = ""
        for line in text.components(separatedBy: "\r\n") where !line.isEmpty {
            var current = ""
            for c in line {
                let piece = c == "=" ? "=3D" : (c.isASCII ? String(c) : Array(String(c).utf8).map { String(format: "=%02X", $0) }.joined())
                if current.count + piece.count > 30 {
                    out += current + "=\r\n"
                    current = ""
                }
                current += piece
            }
            out += current + "\r\n"
        }
        return out
    }
}
