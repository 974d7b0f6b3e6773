// QueueID: the identifier every message carries from acceptance to delivery,
// in replies ("queued as ID") and in every log line. Time-ordered, 16 characters
// of Crockford base32 (55 bits of microseconds since 1970, then 25 random bits), safe as a
// file name.

import Foundation

public struct QueueID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let rawValue: String

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public init?(_ text: String) {
        guard text.utf8.count == 16, text.utf8.allSatisfy(Self.isInAlphabet) else { return nil }
        rawValue = text
    }

    /// Crockford base32 without a table walk (a queue listing checks every name of a million-file directory).
    @inline(__always) static func isInAlphabet(_ b: UInt8) -> Bool {
        switch b {
        case 48...57: return true
        case 65...90: return b != 73 && b != 76 && b != 79 && b != 85  // no I, L, O, U
        default: return false
        }
    }

    public static func generate(now: Date = Date()) -> QueueID {
        let micros = UInt64(max(0, now.timeIntervalSince1970 * 1_000_000))
        let random = UInt64.random(in: 0..<(1 << 25))
        var chars = [UInt8](repeating: 0, count: 16)
        // 11 characters of time (55 bits: good for a thousand years), 5 of randomness.
        var t = micros & ((1 << 55) - 1)
        for i in stride(from: 10, through: 0, by: -1) {
            chars[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
        var r = random
        for i in stride(from: 15, through: 11, by: -1) {
            chars[i] = alphabet[Int(r & 31)]
            r >>= 5
        }
        return QueueID(uncheckedRaw: String(decoding: chars, as: UTF8.self))
    }

    private init(uncheckedRaw: String) { rawValue = uncheckedRaw }

    /// When the id was made (to the microsecond): the message's arrival.
    public var timestamp: Date {
        var t: UInt64 = 0
        for c in rawValue.utf8.prefix(11) {
            t = (t << 5) | UInt64(Self.alphabet.firstIndex(of: c) ?? 0)
        }
        return Date(timeIntervalSince1970: Double(t) / 1_000_000)
    }

    public var description: String { rawValue }
    public static func < (a: QueueID, b: QueueID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = QueueID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad queue id \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
