// MessageVerdicts: everything the session checks and stages learned about a
// message, carried typed from stage to stage: to the rules (decide), the
// signing policy, the log, `sluice rules test`, and the queue (for the
// archive and `sluice quarantine show`). It holds any Verdict by its type and
// stores it by its stable name. A verdict read from the queue stays as JSON
// until asked for by type, so one this binary does not know (written by a
// newer or older Sluice) is kept and written back unchanged: an upgrade and a
// rollback read each other's queue. No stage reads another's results from
// strings.

public struct MessageVerdicts: Sendable, Codable {
    enum Stored: Sendable {
        case typed(any Verdict)
        /// As read from the queue; decoded when asked for by type.
        case raw(JSONValue)
    }

    /// In the order they were added (a handful: a linear search beats hashing).
    private var entries: [(name: String, value: Stored)] = []

    public init() {}

    /// The verdict of this type; nil when no stage recorded it (or a stored one does not read as this type).
    public subscript<V: Verdict>(_ type: V.Type) -> V? {
        get {
            guard let entry = entries.first(where: { $0.name == V.name }) else { return nil }
            switch entry.value {
            case .typed(let v): return v as? V
            // A stored verdict that does not decode as this binary's V reads as absent; it stays raw and is
            // written back unchanged.
            case .raw(let json): return try? json.decode(V.self)
            }
        }
        set {
            let index = entries.firstIndex { $0.name == V.name }
            switch (index, newValue) {
            case (let i?, let v?): entries[i].value = .typed(v)
            case (nil, let v?): entries.append((V.name, .typed(v)))
            case (let i?, nil): entries.remove(at: i)
            case (nil, nil): break
            }
        }
    }

    /// The typed verdicts held (not those kept as stored JSON), in the order they were added.
    public var values: [any Verdict] {
        entries.compactMap { e in
            if case .typed(let v) = e.value { return v }
            return nil
        }
    }

    /// The names of the verdicts held, known to this binary or not.
    public var names: [String] { entries.map(\.name) }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether a verdict of this name is held (as a typed value or as stored JSON).
    public func contains(_ name: String) -> Bool { entries.contains { $0.name == name } }

    /// The verdicts as the queue keeps them: each as its type's `forQueue` says.
    public var forQueue: MessageVerdicts {
        var copy = self
        for i in copy.entries.indices {
            if case .typed(let v) = copy.entries[i].value { copy.entries[i].value = .typed(Self.trimmed(v)) }
        }
        return copy
    }

    private static func trimmed<V: Verdict>(_ v: V) -> any Verdict { v.forQueue }

    /// Adds every verdict of `other` (its value wins where both hold one).
    public mutating func merge(_ other: MessageVerdicts) {
        for e in other.entries {
            if let i = entries.firstIndex(where: { $0.name == e.name }) { entries[i] = e } else { entries.append(e) }
        }
    }

    /// "name: summary" of each typed verdict that has a summary, for logs and the dry run.
    public var summaries: [(name: String, summary: String)] {
        entries.compactMap { e in
            guard case .typed(let v) = e.value, !v.summary.isEmpty else { return nil }
            return (e.name, v.summary)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            entries.append((key.stringValue, .raw(try c.decode(JSONValue.self, forKey: key))))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        for e in entries {
            switch e.value {
            case .typed(let v): try Self.encode(v, into: &c, key: AnyCodingKey(e.name))
            case .raw(let json): try c.encode(json, forKey: AnyCodingKey(e.name))
            }
        }
    }

    private static func encode<V: Verdict>(_ v: V, into c: inout KeyedEncodingContainer<AnyCodingKey>, key: AnyCodingKey) throws {
        try c.encode(v, forKey: key)
    }
}

// The verdicts of the built-in stages, by type (the same as `verdicts[AuthenticationResults.self]`).
extension MessageVerdicts {
    public init(authentication: AuthenticationResults? = nil, inspection: InspectionResults? = nil, sender: SenderAuthorization? = nil) {
        self.init()
        self.sender = sender
        self.authentication = authentication
        self.inspection = inspection
    }

    /// nil when the listener does not verify.
    public var authentication: AuthenticationResults? {
        get { self[AuthenticationResults.self] }
        set { self[AuthenticationResults.self] = newValue }
    }

    /// nil when the message was not inspected.
    public var inspection: InspectionResults? {
        get { self[InspectionResults.self] }
        set { self[InspectionResults.self] = newValue }
    }

    /// Who vouches for the sender; nil when the sender was not checked.
    public var sender: SenderAuthorization? {
        get { self[SenderAuthorization.self] }
        set { self[SenderAuthorization.self] = newValue }
    }
}

/// Who vouches for the sender of a message (R-AUTH-2), as the sender identity stage found it.
public struct SenderAuthorization: Verdict, Hashable {
    public static let name = "sender"
    /// "user alice", "trusted network 10.0.0.0/8"; nil when the client is neither authenticated nor trusted.
    public var principal: String?
    /// The From: domains the principal may use that the message's From: names (empty when not authorised).
    public var fromDomains: [String]

    public init(principal: String?, fromDomains: [String]) {
        self.principal = principal
        self.fromDomains = fromDomains
    }

    public var summary: String { principal ?? "" }
}
