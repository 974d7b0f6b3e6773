// MessageVerdicts: everything the verify and inspect stages learned about a
// message, carried typed from stage to stage: to the rules (decide), the
// signing policy, the log, `sluice rules test`, and the queue (for the
// archive). No stage reads another's results from strings.

/// Who vouches for the sender of a message (R-AUTH-2), as the sender identity stage found it.
public struct SenderAuthorization: Sendable, Codable, Hashable {
    /// "user alice", "trusted network 10.0.0.0/8"; nil when the client is neither authenticated nor trusted.
    public var principal: String?
    /// The From: domains the principal may use that the message's From: names (empty when not authorised).
    public var fromDomains: [String]

    public init(principal: String?, fromDomains: [String]) {
        self.principal = principal
        self.fromDomains = fromDomains
    }
}

public struct MessageVerdicts: Sendable, Codable, Hashable {
    /// nil when the listener does not verify.
    public var authentication: AuthenticationResults?
    /// nil when the message was not inspected.
    public var inspection: InspectionResults?
    public var sender: SenderAuthorization?

    public init(authentication: AuthenticationResults? = nil, inspection: InspectionResults? = nil, sender: SenderAuthorization? = nil) {
        self.authentication = authentication
        self.inspection = inspection
        self.sender = sender
    }

    /// What is kept with the queued message: the verdicts with the first 20 findings (redacted snippets, as
    /// logged), for `sluice quarantine show` and the archive.
    public var forQueue: MessageVerdicts {
        var copy = self
        if let findings = copy.inspection?.findings, findings.count > 20 { copy.inspection?.findings = Array(findings.prefix(20)) }
        return copy
    }
}
