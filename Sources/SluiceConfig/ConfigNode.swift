// ConfigNode: a YAML node with its file and key path, and typed readers that
// fail with a ConfigError pointing at the node (file:line:column).

import Foundation
import SluiceCore
import Yams

public struct ConfigNode {
    public init(node: Node, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    /// The root node of a YAML document, with syntax errors as ConfigErrors.
    public static func root(yaml: String, file: String) throws -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw ConfigError(file: file, line: 1, column: 1, keyPath: "", reason: "the file is empty")
            }
            return ConfigNode(node: node, path: "", file: file)
        } catch let e as YamlError {
            throw SluiceConfiguration.yamlError(e, file: file)
        }
    }

    /// Whether the node is a scalar (as opposed to a mapping or a list).
    public var isScalar: Bool {
        if case .scalar = node { return true }
        return false
    }

    public let node: Node
    public let path: String
    public let file: String

    /// "file:line:column" of this node, for messages raised later (e.g. a key file that cannot be read).
    public var location: String { "\(file):\(node.mark?.line ?? 0):\(node.mark?.column ?? 0)" }

    public func error(_ reason: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, column: node.mark?.column, keyPath: path, reason: reason)
    }

    public func child(_ key: String, _ value: Node) -> ConfigNode {
        ConfigNode(node: value, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The node as a mapping whose keys are all in `allowed`; unknown keys are errors.
    public func mapping(allowed: [String]) throws -> [String: ConfigNode] {
        guard let mapping = node.mapping else { throw error("expected a mapping of keys") }
        var out: [String: ConfigNode] = [:]
        for (k, v) in mapping {
            let key = k.string ?? ""
            let keyNode = ConfigNode(node: k, path: path.isEmpty ? key : "\(path).\(key)", file: file)
            guard allowed.contains(key) else {
                let hint = allowed.isEmpty ? "" : " (known keys: \(allowed.joined(separator: ", ")))"
                throw keyNode.error("unknown key '\(key)'\(hint)")
            }
            guard out[key] == nil else { throw keyNode.error("duplicate key '\(key)'") }
            out[key] = child(key, v)
        }
        return out
    }

    /// The node as a mapping with free-form keys (names of listeners, policies ...).
    public func namedEntries() throws -> [(String, ConfigNode)] {
        guard let mapping = node.mapping else { throw error("expected a mapping of names") }
        var seen = Set<String>()
        return try mapping.map { k, v in
            let key = k.string ?? ""
            guard !key.isEmpty else { throw ConfigNode(node: k, path: path, file: file).error("empty name") }
            guard seen.insert(key).inserted else { throw ConfigNode(node: k, path: path, file: file).error("duplicate name '\(key)'") }
            return (key, child(key, v))
        }
    }

    /// A null value at this node's place: what a bare word (`- drop`) means as the value of its key.
    public var asNull: ConfigNode {
        ConfigNode(node: .scalar(.init("", .implicit, .plain, node.mark)), path: path, file: file)
    }

    public var isNull: Bool {
        if case .scalar(let s) = node, s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { return true }
        return false
    }

    public func list() throws -> [ConfigNode] {
        if isNull { return [] }
        guard let seq = node.sequence else { throw error("expected a list") }
        return seq.enumerated().map { i, n in ConfigNode(node: n, path: "\(path)[\(i)]", file: file) }
    }

    public func string() throws -> String {
        guard case .scalar(let s) = node else { throw error("expected a string") }
        return s.string
    }

    public func nonEmptyString() throws -> String {
        let s = try string()
        guard !s.isEmpty else { throw error("must not be empty") }
        return s
    }

    /// The value when it is true or false (a field that takes a Boolean or something else).
    public var boolValue: Bool? { node.bool }

    public func bool() throws -> Bool {
        guard let b = node.bool else { throw error("expected true or false") }
        return b
    }

    public func int(in range: ClosedRange<Int>) throws -> Int {
        guard let i = node.int else { throw error("expected a whole number") }
        guard range.contains(i) else { throw error("must be between \(range.lowerBound) and \(range.upperBound)") }
        return i
    }

    public func size() throws -> Int {
        let text = try string()
        guard let n = ByteSize.parse(text) else { throw error("expected a size like 25MB, 512KB or 1GB, got '\(text)'") }
        return n
    }

    public func duration() throws -> Double {
        let text = try string()
        guard let d = DurationText.parse(text) else { throw error("expected a duration like 30s, 5m, 2h or 5d, got '\(text)'") }
        return d
    }

    /// An enumerated setting: one of the enum's values, or an error at this node naming them all.
    public func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws -> E where E.RawValue == String {
        let s = try oneOf(E.allCases.map(\.rawValue))
        return E(rawValue: s)!
    }

    public func oneOf(_ choices: [String]) throws -> String {
        let s = try string()
        guard choices.contains(s) else { throw error("must be one of \(choices.joined(separator: ", ")), got '\(s)'") }
        return s
    }

    public func stringList() throws -> [String] {
        if case .scalar = node, !isNull { return [try nonEmptyString()] }
        return try list().map { try $0.nonEmptyString() }
    }

    public func cidrList() throws -> [CIDR] {
        let items: [ConfigNode]
        if case .scalar = node, !isNull { items = [self] } else { items = try list() }
        return try items.map { item in
            let text = try item.string()
            guard let cidr = CIDR(text) else { throw item.error("not an IP network: '\(text)'") }
            return cidr
        }
    }
}

/// Sizes: "25MB", "512KB", "1GB", "1000" (bytes). Powers of 1024.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        // Binary multiples whatever the spelling (25MB = 25MiB), as mail sizes have always been read.
        let units: [(String, Int)] = [
            ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("G", 1 << 30),
            ("M", 1 << 20), ("K", 1 << 10), ("B", 1),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Int(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
            return n.multipliedReportingOverflow(by: factor).overflow ? nil : n * factor
        }
        guard let n = Int(t), n >= 0 else { return nil }
        return n
    }
}

/// Durations: "30s", "5m", "2h", "5d", "1w", "250ms"; seconds as a Double.
public enum DurationText {
    public static func parse(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604800)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count)), n >= 0, n.isFinite else { continue }
            return n * factor
        }
        return nil
    }
}
