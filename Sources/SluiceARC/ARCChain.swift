// ARCChain: the ARC sets of a message's header section (RFC 8617 §4): each
// instance's ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal,
// found by their i= tag, with the tag lists parsed. Pure.

import Foundation
import SluiceMailAuth

/// A DKIM-style tag list (RFC 6376 §3.2): "a=rsa-sha256; d=example.org; b=..." with folding whitespace.
public enum TagList {
    public static func parse(_ value: String) -> [String: String]? {
        var out: [String: String] = [:]
        for part in value.split(separator: ";", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<eq].trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let raw = trimmed[trimmed.index(after: eq)...]
            guard !name.isEmpty, out[name] == nil else { return nil }
            out[name] = String(raw.filter { !$0.isWhitespace && $0 != "\r" && $0 != "\n" })
        }
        return out
    }
}

public struct ARCSet: Sendable {
    public var instance: Int
    /// The fields as they are in the message (name, colon, value, folding; no final CRLF).
    public var results: [UInt8]
    public var messageSignature: [UInt8]
    public var seal: [UInt8]
    public var signatureTags: [String: String]
    public var sealTags: [String: String]
}

public struct ARCChain: Sendable {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let why): return why
            }
        }
    }

    /// By instance, 1 first.
    public var sets: [ARCSet]

    public static let names = ["arc-authentication-results", "arc-message-signature", "arc-seal"]

    /// The chain of a header section's fields (HeaderFields.split); empty when there is none.
    public static func read(_ fields: [[UInt8]]) throws(Problem) -> ARCChain {
        var found: [Int: [String: [UInt8]]] = [:]
        for field in fields {
            guard let colon = field.firstIndex(of: 0x3A) else { continue }
            let name = String(decoding: field[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
            guard names.contains(name) else { continue }
            let value = String(decoding: field[(colon + 1)...], as: UTF8.self)
            guard let instance = Self.instance(value) else { throw .malformed("an \(name) field without a valid i= tag") }
            guard (1...50).contains(instance) else { throw .malformed("instance i=\(instance) is outside 1-50") }
            guard found[instance, default: [:]][name] == nil else { throw .malformed("two \(name) fields for i=\(instance)") }
            found[instance, default: [:]][name] = field
        }
        guard let highest = found.keys.max() else { return ARCChain(sets: []) }
        var sets: [ARCSet] = []
        for i in 1...highest {
            guard let set = found[i], let aar = set["arc-authentication-results"], let ams = set["arc-message-signature"],
                let seal = set["arc-seal"]
            else { throw .malformed("the ARC set of i=\(i) is incomplete") }
            guard let amsTags = TagList.parse(Self.value(ams)), let sealTags = TagList.parse(Self.value(seal)) else {
                throw .malformed("the ARC set of i=\(i) has an unreadable tag list")
            }
            sets.append(ARCSet(instance: i, results: aar, messageSignature: ams, seal: seal, signatureTags: amsTags, sealTags: sealTags))
        }
        return ARCChain(sets: sets)
    }

    static func value(_ field: [UInt8]) -> String {
        guard let colon = field.firstIndex(of: 0x3A) else { return "" }
        return String(decoding: field[(colon + 1)...], as: UTF8.self)
    }

    /// The i= of an ARC field's value (the first tag of an ARC-Authentication-Results, a tag among others elsewhere).
    static func instance(_ value: String) -> Int? {
        for part in value.split(separator: ";") {
            let t = part.trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.lowercased().hasPrefix("i") else { continue }
            let rest = t.dropFirst().trimmingCharacters(in: .whitespacesAndNewlines)
            guard rest.hasPrefix("=") else { continue }
            return Int(rest.dropFirst().trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return nil
    }

    /// The field with its b= value removed (what a signature covers, RFC 6376 §3.7).
    static func withoutSignature(_ field: [UInt8]) -> [UInt8] {
        // Find "b=" as a tag name: at the start of the value or after ';' and whitespace.
        var i = (field.firstIndex(of: 0x3A) ?? -1) + 1
        var atTagStart = true
        while i < field.count {
            let c = field[i]
            if atTagStart && (c == 0x62 || c == 0x42) {
                var j = i + 1
                while j < field.count, [0x20, 0x09, 0x0D, 0x0A].contains(field[j]) { j += 1 }
                if j < field.count, field[j] == 0x3D {
                    var end = j + 1
                    while end < field.count, field[end] != 0x3B { end += 1 }
                    return Array(field[...j]) + Array(field[end...])
                }
            }
            if c == 0x3B {
                atTagStart = true
            } else if ![0x20, 0x09, 0x0D, 0x0A].contains(c) {
                atTagStart = false
            }
            i += 1
        }
        return field
    }
}
