// Validators: what turns a pattern candidate into a finding (R-DLP-2).
// Checksums and numbering rules of real formats: Luhn and issuer ranges for
// payment cards, SSA rules for US SSNs, ISO 13616 lengths and mod-97 for
// IBANs, structure for JWTs. Pure functions on the candidate text.

import Foundation

public enum Validators {
    /// The ASCII digits of a candidate (patterns match ASCII digits only), by bytes: this runs for every
    /// candidate, and Unicode property lookups per character cost more than the matching.
    public static func digits(_ s: some StringProtocol) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 where b >= 48 && b <= 57 { out.append(Int(b) - 48) }
        return out
    }

    public static func luhn(_ d: [Int]) -> Bool {
        guard d.count >= 2 else { return false }
        var sum = 0
        for (i, digit) in d.reversed().enumerated() {
            if i % 2 == 1 {
                let x = digit * 2
                sum += x > 9 ? x - 9 : x
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    /// Issuer ranges (IIN) and lengths of the card brands mail is likely to carry.
    public static func cardBrand(_ d: [Int]) -> String? {
        let n = d.count
        func prefix(_ k: Int) -> Int { d.prefix(k).reduce(0) { $0 * 10 + $1 } }
        if d.first == 4, [13, 16, 19].contains(n) { return "visa" }
        if (51...55).contains(prefix(2)) || (2221...2720).contains(prefix(4)), n == 16 { return "mastercard" }
        if [34, 37].contains(prefix(2)), n == 15 { return "amex" }
        if prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3)) || (622126...622925).contains(prefix(6)), (16...19).contains(n) {
            return "discover"
        }
        if (3528...3589).contains(prefix(4)), (16...19).contains(n) { return "jcb" }
        if (300...305).contains(prefix(3)) || prefix(2) == 36 || prefix(2) == 38 || prefix(2) == 39, (14...19).contains(n) { return "diners" }
        if prefix(2) == 62, (16...19).contains(n) { return "unionpay" }
        if [50, 56, 57, 58, 63, 67].contains(prefix(2)) || prefix(1) == 6, (12...19).contains(n), n >= 13 { return "maestro" }
        return nil
    }

    public static func creditCard(_ candidate: some StringProtocol) -> Bool {
        let d = digits(candidate)
        guard (13...19).contains(d.count), luhn(d), cardBrand(d) != nil else { return false }
        // All one digit (4444 4444 4444 4448 passes Luhn for some) is a test pattern, not a card.
        return Set(d.dropLast()).count > 1
    }

    /// SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; not a famous advertising number.
    public static func usSSN(_ candidate: some StringProtocol) -> Bool {
        let d = digits(candidate)
        guard d.count == 9 else { return false }
        let area = d[0] * 100 + d[1] * 10 + d[2]
        let group = d[3] * 10 + d[4]
        let serial = d[5...8].reduce(0) { $0 * 10 + $1 }
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return false }
        let text = d.map(String.init).joined()
        return !["078051120", "219099999", "123456789", "111111111", "333333333"].contains(text)
    }

    /// ISO 13616 lengths per country (the SWIFT IBAN registry).
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28, "CH": 21,
        "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
        "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
        "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
        "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
        "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
        "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    ]

    public static func iban(_ candidate: some StringProtocol) -> Bool {
        var s: [UInt8] = []
        s.reserveCapacity(candidate.utf8.count)
        for b in candidate.utf8 where b != UInt8(ascii: " ") {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"): s.append(b)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): s.append(b - 32)
            default: return false
            }
        }
        guard s.count >= 15, let expected = ibanLengths[String(decoding: s[0..<2], as: UTF8.self)], s.count == expected else { return false }
        var remainder = 0
        for b in s[4...] + s[0..<4] {
            if b <= UInt8(ascii: "9") {
                remainder = (remainder * 10 + Int(b) - 48) % 97
            } else {
                remainder = (remainder * 100 + Int(b) - 55) % 97
            }
        }
        return remainder == 1
    }

    /// Three base64url segments whose first decodes to a JSON header with "alg".
    public static func jwt(_ candidate: some StringProtocol) -> Bool {
        let parts = candidate.split(separator: ".")
        guard parts.count == 3, let header = base64URL(parts[0]),
            let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any], json["alg"] != nil
        else { return false }
        return base64URL(parts[1]).flatMap { try? JSONSerialization.jsonObject(with: $0) } != nil
    }

    static func base64URL(_ s: some StringProtocol) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }

    /// A plausible phone number: 10 to 15 digits; North American numbers need a valid area code and exchange.
    public static func phone(_ candidate: some StringProtocol) -> Bool {
        var d = digits(candidate)
        guard (10...15).contains(d.count) else { return false }
        let international = candidate.utf8.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } == UInt8(ascii: "+")
        if d.count == 11, d.first == 1 { d.removeFirst() }
        if d.count == 10 && !international {
            return d[0] >= 2 && d[3] >= 2 && !(d[1] == 1 && d[2] == 1)
        }
        return international && Set(d).count > 2
    }

    public static func email(_ candidate: some StringProtocol) -> Bool {
        guard let at = candidate.lastIndex(of: "@") else { return false }
        let domain = candidate[candidate.index(after: at)...]
        let labels = domain.split(separator: ".")
        guard labels.count >= 2, let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) else { return false }
        return !candidate[..<at].isEmpty
    }
}
