// Verdict: what one stage or session check found about a message, as a typed
// value with a stable name. The name is how MessageVerdicts holds it and how
// the queue keeps it on disk ("authentication", "inspection", "sender", and
// whatever a component adds): choose it once, never rename it.

public protocol Verdict: Codable, Sendable {
    /// The stable name: the key under which the queue stores this verdict.
    static var name: String { get }
    /// What is kept with the queued message (a verdict may drop detail the queue need not hold).
    var forQueue: Self { get }
    /// One line for logs, `sluice rules test` and `sluice quarantine show` ("spf=pass dkim=none").
    var summary: String { get }
}

/// A verdict written on top of every copy of the message it is about (Authentication-Results, RFC 8601).
public protocol TraceHeaderVerdict: Verdict {
    /// The header, as "Name: value" with folding; nil when there is nothing to say.
    func traceHeader(authservID: String) -> String?
}

extension Verdict {
    public var forQueue: Self { self }
    public var summary: String { "" }
}
