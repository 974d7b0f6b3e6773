// The route targets of release 0.9.0, as stored then: `{"store":{"directory":D}}`, `{"relay":{"upstream":U}}`,
// `{"send":{}}`, `{"archive":{"name":N}}`, `{"bounce":{"code":C,"status":S,"text":T}}`. Their instance keys
// and the bounce's reply (its instance, "550 5.7.1", made from its fields) are read here, so that queue files
// of that release read, show and deliver, and so that the files this version writes read in that release.

extension RouteTarget {
    /// Fields that may hold the instance: "name" (every kind), then the two of release 0.9.0.
    static let instanceKeys = ["name", "upstream", "directory"]

    /// A kind whose instance is made from its fields, not stored.
    static func derivedInstance(kind: String) -> Bool { kind == "bounce" }

    static func legacyInstance(kind: String, fields: [String: JSONValue]) -> String {
        guard derivedInstance(kind: kind), let code = fields["code"]?.intValue else { return "" }
        guard let status = fields["status"]?.stringValue.flatMap(EnhancedStatus.init) else { return "\(code)" }
        return "\(code) \(status)"
    }

    /// Write the final message as NAME.eml into a directory (absolute path).
    public static func store(directory: String) -> RouteTarget {
        RouteTarget(kind: "store", instance: directory, instanceKey: "directory")
    }

    /// Relay to a named upstream pool (`upstreams:` in the config).
    public static func relay(upstream: String) -> RouteTarget { RouteTarget(kind: "relay", instance: upstream, instanceKey: "upstream") }

    /// Deliver directly to each recipient domain's MX hosts.
    public static let send = RouteTarget(kind: "send")

    /// Keep a copy in a named archive (`archives:` in the config).
    public static func archive(name: String) -> RouteTarget { RouteTarget(kind: "archive", instance: name) }

    /// Deliver nothing; the recipient fails with this reply, which sends the sender a DSN.
    public static func bounce(code: Int, status: EnhancedStatus, text: String) -> RouteTarget {
        let options: [String: JSONValue] = ["code": .int(Int64(code)), "status": .string(status.description), "text": .string(text)]
        return RouteTarget(kind: "bounce", instance: "\(code) \(status)", options: options)
    }

    /// The reply of a bounce target (nil for other kinds).
    public var bounceReply: (code: Int, status: EnhancedStatus, text: String)? {
        guard kind == "bounce", let code = options["code"]?.intValue else { return nil }
        // A status this version cannot read is reported as the generic permanent failure.
        let status = options["status"]?.stringValue.flatMap(EnhancedStatus.init) ?? EnhancedStatus(5, 0, 0)
        return (code, status, options["text"]?.stringValue ?? "")
    }

    public var isArchive: Bool { kind == "archive" }
}
