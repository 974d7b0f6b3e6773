// QueueID: the identifier every message carries from acceptance to delivery,
// in replies ("queued as ID") and in every log line. Time-ordered, 16 characters
// of Crockford base32 (microseconds since 1970 then 30 random bits), safe as a
// file name.

import Foundation

public struct QueueID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let rawValue: String

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public init?(_ text: String) {
        guard text.utf8.count == 16, text.utf8.allSatisfy({ Self.alphabet.contains($0) }) else { return nil }
        rawValue = text
    }

    public static func generate(now: Date = Date()) -> QueueID {
        let micros = UInt64(max(0, now.timeIntervalSince1970 * 1_000_000))
        let random = UInt64.random(in: 0..<(1 << 30))
        var chars = [UInt8](repeating: 0, count: 16)
        // 50 bits of time (8 chars of 5 bits covers 40; use 10 chars = 50 bits), 30 bits random (6 chars).
        var t = micros & ((1 << 50) - 1)
        for i in stride(from: 9, through: 0, by: -1) {
            chars[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
        var r = random
        for i in stride(from: 15, through: 10, by: -1) {
            chars[i] = alphabet[Int(r & 31)]
            r >>= 5
        }
        return QueueID(uncheckedRaw: String(decoding: chars, as: UTF8.self))
    }

    private init(uncheckedRaw: String) { rawValue = uncheckedRaw }

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
