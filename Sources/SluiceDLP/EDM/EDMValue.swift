// What Exact Data Match compares: a value as it is normalised on both sides
// (the CSV at import, the message at scan time). Numbers (account, card,
// phone, ID numbers) compare by their digits, whatever the separators or
// typed characters around them; e-mail addresses by their lowercase form.

import Foundation

public enum EDMKind: String, Sendable, Codable {
    case number, email
}

enum EDMValue {
    /// Separators a number may be written with (besides the typed ones TypedCharacters folds).
    static let numberSeparators: Set<UInt8> = Set(" -./()+".utf8)

    /// The kind a CSV value is, and its normal form; nil when it is neither a number (4-32 digits) nor an address.
    static func normalise(_ value: String) -> (kind: EDMKind, normal: [UInt8])? {
        let raw = Array(value.trimmingCharacters(in: .whitespaces).utf8)
        let bytes = TypedCharacters.folded(raw)?.bytes ?? raw
        if bytes.contains(64) {
            let lower = bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            guard let at = lower.firstIndex(of: 64), at > 0, at < lower.count - 1, !lower.contains(32) else { return nil }
            return (.email, lower)
        }
        guard let digits = number(bytes) else { return nil }
        return (.number, digits)
    }

    /// The digits of a number written with separators; nil when anything else is in it or it has fewer than 4
    /// or more than 32 digits.
    static func number(_ bytes: some Collection<UInt8>) -> [UInt8]? {
        var digits: [UInt8] = []
        for b in bytes {
            if b >= 48 && b <= 57 {
                digits.append(b)
            } else if !numberSeparators.contains(b) {
                return nil
            }
        }
        return (4...32).contains(digits.count) ? digits : nil
    }

    /// The numbers a matched span may stand for: its groups of digits (split at spaces and other separators)
    /// joined in every contiguous run, so "4111 1111 1111 1111" is one number and "12345678 4155552671" (two
    /// cells of a row) two; only runs with a digit count in `lengths` are returned. At most 8 groups are combined.
    static func numbers(in span: ArraySlice<UInt8>, lengths: ClosedRange<Int>) -> [[UInt8]] {
        var groups: [[UInt8]] = []
        var current: [UInt8] = []
        for b in span {
            if b >= 48 && b <= 57 {
                current.append(b)
            } else if !current.isEmpty {
                groups.append(current)
                current = []
            }
        }
        if !current.isEmpty { groups.append(current) }
        var out: [[UInt8]] = []
        for first in groups.indices {
            var joined: [UInt8] = []
            for last in first..<min(groups.count, first + 8) {
                joined += groups[last]
                if joined.count > lengths.upperBound { break }
                if lengths.contains(joined.count) { out.append(joined) }
            }
        }
        return out
    }
}
