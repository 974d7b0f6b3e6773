// AcceptPolicy: the accept stage of a listener as one SessionCheck: the
// connection-time part of its traffic policy, then relay control and the
// traffic policy for each recipient, and the policy's rate limits. A deny
// answers with its statement's `reply:`, or the default refusal with what
// the statement's conditions say (a DNS list's reason).

import SluiceConfig
import SluiceCore

public struct AcceptPolicy: SessionCheck {
    public var relay: RelayControl
    public var policy: TrafficPolicy?
    /// The policy's rate limits; shared by every listener using the policy.
    public var limiter: RateLimiter?

    public init(relay: RelayControl, policy: TrafficPolicy?, limiter: RateLimiter? = nil) {
        self.relay = relay
        self.policy = policy
        self.limiter = limiter
    }

    public func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        if let refusal = await limiter?.admitMessage(client: client, sender: sender) { throw refusal }
    }

    public func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        guard let policy, let denial = policy.evaluateAtConnect(PolicyFacts(client: client, verdicts: facts)) else { return }
        throw Self.refusal(
            denial, default: SMTPReply(554, .init(5, 7, 1), "Access denied"),
            reason: "traffic policy \(policy.name) denies the connection")
    }

    public func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        if let refusal = relay.check(recipient: recipient, client: client) { throw refusal }
        if let policy {
            let outcome = policy.evaluate(PolicyFacts(client: client, sender: sender, recipient: recipient, verdicts: facts))
            if outcome.decision == .deny {
                throw Self.refusal(
                    outcome, default: SMTPReply(550, .init(5, 7, 1), "<\(recipient)>: Recipient address rejected by policy"),
                    reason: "traffic policy \(policy.name) denies")
            }
        }
        if let refusal = await limiter?.admitRecipient(client: client, sender: sender) { throw refusal }
    }

    /// The statement's own reply, or `fallback` with the conditions' detail appended.
    static func refusal(_ outcome: TrafficPolicy.Outcome, default fallback: SMTPReply, reason: String) -> SMTPError {
        let why = outcome.detail.map { "\(reason): \($0)" } ?? reason
        if let reply = outcome.statement?.reply { return SMTPError(reply, reason: why) }
        guard let detail = outcome.detail else { return SMTPError(fallback, reason: why) }
        let text = (fallback.lines.first ?? "") + ": " + detail
        return SMTPError(SMTPReply(fallback.code, fallback.status, text), reason: why)
    }
}
