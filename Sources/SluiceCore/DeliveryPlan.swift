// DeliveryPlan: what the decide stage chose for a message, written into the
// queued envelope so that delivery never re-evaluates. Each route names a
// target and the recipients that go there.

/// Where a route goes: a delivery target's kind ("relay", "store", "lmtp" ...: the key of its DeliveryTarget
/// and a bounded metrics label) and which one of that kind (an upstream, a directory, an archive; "" for a
/// kind that has one, such as send), with the target's own fields. Kinds are open: the component that
/// contributes a target defines its kind and reads its fields; a rule naming an instance that is not
/// configured fails to load. Stored as `{KIND: {FIELDS}}`, the shape release 0.9.0 wrote.
public struct RouteTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public let kind: String
    public let instance: String
    /// The target's other fields (a bounce's reply), as stored.
    public let options: [String: JSONValue]
    /// The field the instance is stored under ("name" for every kind but those of 0.9.0).
    let instanceKey: String

    public init(kind: String, instance: String = "", options: [String: JSONValue] = [:], instanceKey: String = "name") {
        self.kind = kind
        self.instance = instance
        self.options = options
        self.instanceKey = instanceKey
    }

    /// "relay:smarthost", "send", "archive:default".
    public var description: String { instance.isEmpty ? kind : "\(kind):\(instance)" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "a route target has exactly one kind"))
        }
        var fields = try c.decode([String: JSONValue].self, forKey: key)
        kind = key.stringValue
        let found = Self.instanceKeys.first { fields[$0]?.stringValue != nil }
        instanceKey = found ?? "name"
        instance = found.flatMap { fields.removeValue(forKey: $0)?.stringValue } ?? Self.legacyInstance(kind: kind, fields: fields)
        options = fields
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        var fields = options
        if !instance.isEmpty && !Self.derivedInstance(kind: kind) { fields[instanceKey] = .string(instance) }
        try c.encode(fields, forKey: AnyCodingKey(kind))
    }
}

/// What to do when a route cannot be delivered (rule option `on_failure`).
public enum OnFailure: String, Sendable, Codable, Hashable {
    /// Give up on this route as usual when it fails for good, and go on with the rest.
    case `continue`
    /// Give up silently: no bounce.
    case drop
    /// Treat even permanent failures as temporary until the delivery time runs out.
    case `defer`
}

extension Route {
    /// "" for a copy as received; else 8 hex digits of an FNV-1a hash of what makes this copy differ
    /// (headers added, Subject tags, signing domains): the same for every attempt of the route.
    public var variant: String {
        let markText = (marks ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.joined(separator: ","))" }
        let parts = addHeaders + ["\u{1}"] + subjectTags + ["\u{1}"] + (signing ?? []) + (markText.isEmpty ? [] : ["\u{1}"] + markText)
        guard !addHeaders.isEmpty || !subjectTags.isEmpty || !(signing ?? []).isEmpty || !markText.isEmpty else { return "" }
        var hash: UInt32 = 0x811c_9dc5
        for byte in parts.joined(separator: "\n").utf8 {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}

public struct Route: Sendable, Hashable, Codable {
    public var target: RouteTarget
    public var recipients: [MailAddress]
    /// Header lines ("Name: value") the transform stage prepends for this route.
    public var addHeaders: [String]
    /// Tags put in front of the Subject for this route ("[EXTERNAL]").
    public var subjectTags: [String]
    /// Quarantined: not delivered until an operator releases it.
    public var held: Bool
    /// Which rule quarantined it and why (nil for entries queued before this was recorded).
    public var quarantine: String?
    public var onFailure: OnFailure
    /// Overrides delivery.max_delivery_time for this route.
    public var maxDeliveryTime: Double?
    /// The domains this route's copy is DKIM-signed for, as the signing policy decided (R-CORE-2); nil or
    /// empty: it leaves unsigned. (Optional so that entries queued before it existed still read.)
    public var signing: [String]?
    /// What rule actions ask of the message modifiers for this route, by name (an ARC seal's domain, a
    /// sender rewriting): a component's action sets a mark, its modifier reads it. nil when there is none.
    public var marks: [String: [String]]?

    public init(
        target: RouteTarget, recipients: [MailAddress], addHeaders: [String] = [], subjectTags: [String] = [],
        held: Bool = false, onFailure: OnFailure = .continue, maxDeliveryTime: Double? = nil, signing: [String] = [],
        quarantine: String? = nil, marks: [String: [String]] = [:]
    ) {
        self.marks = marks.isEmpty ? nil : marks
        self.quarantine = quarantine
        self.target = target
        self.recipients = recipients
        self.addHeaders = addHeaders
        self.subjectTags = subjectTags
        self.held = held
        self.onFailure = onFailure
        self.maxDeliveryTime = maxDeliveryTime
        self.signing = signing.isEmpty ? nil : signing
    }

    /// The domains to sign for; empty: unsigned.
    public var dkimDomains: [String] { signing ?? [] }
}

public struct DeliveryPlan: Sendable, Hashable, Codable {
    public var routes: [Route]
    /// Recipients no rule delivered anywhere (dropped, or no delivering action), for the log.
    public var dropped: [MailAddress]
    /// Why the message is signed for whom, or why not (R-CORE-2), for the log and `sluice queue show`.
    public var signingNote: String?

    public init(routes: [Route], dropped: [MailAddress] = [], signingNote: String? = nil) {
        self.routes = routes
        self.dropped = dropped
        self.signingNote = signingNote
    }
}
