// DeliveryPlan: what the decide stage chose for a message, written into the
// queued envelope so that delivery never re-evaluates. Each route names a
// target and the recipients that go there.

public enum RouteTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Write the final message as NAME.eml into a directory (absolute path).
    case store(directory: String)

    public var description: String {
        switch self {
        case .store(let directory): return "store:\(directory)"
        }
    }

    /// The kind of target, a bounded label for metrics ("store", later "relay", "send" ...).
    public var kind: String {
        switch self {
        case .store: return "store"
        }
    }
}

public struct Route: Sendable, Hashable, Codable {
    public var target: RouteTarget
    public var recipients: [MailAddress]

    public init(target: RouteTarget, recipients: [MailAddress]) {
        self.target = target
        self.recipients = recipients
    }
}

public struct DeliveryPlan: Sendable, Hashable, Codable {
    public var routes: [Route]
    /// Header lines ("Name: value", no CRLF) the transform stage prepends at delivery.
    public var addHeaders: [String]

    public init(routes: [Route], addHeaders: [String] = []) {
        self.routes = routes
        self.addHeaders = addHeaders
    }
}
