// JSONValue: a JSON document as a value, for what this binary stores but does
// not interpret: a verdict written by a newer (or older) Sluice, a delivery
// target's own fields. Decoded from the queue's JSON and encoded back the same
// way (StoredJSON sorts keys), so what another version wrote survives a
// rewrite of the file unchanged.

import Foundation

public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
            return
        }
        // The JSON type is found by asking for each Swift type in turn: a mismatch is the expected answer for all
        // but one of them, so those errors carry no information.
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value as a typed one, decoded as the queue decodes (StoredJSON).
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try StoredJSON.decoder().decode(T.self, from: try StoredJSON.encoder().encode(self))
    }

    /// A typed value as JSON, encoded as the queue encodes.
    public init<T: Encodable>(encoding value: T) throws {
        self = try StoredJSON.decoder().decode(JSONValue.self, from: try StoredJSON.encoder().encode(value))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The value as JSONSerialization takes it (for documents built as [String: Any]).
    public var foundationObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o): return o.mapValues(\.foundationObject)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case .int(let i) = self { return Int(exactly: i) }
        return nil
    }
}

/// How Sluice writes the JSON it keeps (queue end records and state files): keys sorted, so that a value
/// decoded as JSONValue and encoded again gives the same bytes; dates as milliseconds since 1970.
public enum StoredJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return d
    }
}

/// A coding key made from any string (the names of verdicts, of a target's fields).
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
