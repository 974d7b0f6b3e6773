// DeliveryPlan: what the decide stage chose for a message, written into the
// queued envelope so that delivery never re-evaluates. Each route names a
// target and the recipients that go there.

public enum RouteTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Write the final message as NAME.eml into a directory (absolute path).
    case store(directory: String)
    /// Relay to a named upstream pool (`upstreams:` in the config).
    case relay(upstream: String)
    /// Deliver directly to each recipient domain's MX hosts.
    case send
    /// Keep a copy in a named archive (`archives:` in the config).
    case archive(name: String)
    /// Deliver nothing; the recipient fails with this reply, which sends the sender a DSN.
    case bounce(code: Int, status: EnhancedStatus, text: String)

    public var isArchive: Bool {
        if case .archive = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .store(let directory): return "store:\(directory)"
        case .relay(let upstream): return "relay:\(upstream)"
        case .send: return "send"
        case .archive(let name): return "archive:\(name)"
        case .bounce(let code, let status, _): return "bounce:\(code) \(status)"
        }
    }

    /// The kind of target, a bounded label for metrics and the key of its DeliveryTarget.
    public var kind: String {
        switch self {
        case .store: return "store"
        case .relay: return "relay"
        case .send: return "send"
        case .archive: return "archive"
        case .bounce: return "bounce"
        }
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
        let parts = addHeaders + ["\u{1}"] + subjectTags + ["\u{1}"] + (signing ?? [])
        guard !addHeaders.isEmpty || !subjectTags.isEmpty || !(signing ?? []).isEmpty else { return "" }
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

    public init(
        target: RouteTarget, recipients: [MailAddress], addHeaders: [String] = [], subjectTags: [String] = [],
        held: Bool = false, onFailure: OnFailure = .continue, maxDeliveryTime: Double? = nil, signing: [String] = [],
        quarantine: String? = nil
    ) {
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
