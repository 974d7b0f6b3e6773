// AcceptPolicy: the accept stage of a listener as one SessionCheck: the
// connection-time part of its traffic policy, then relay control and the
// traffic policy for each recipient, and the policy's rate limits.

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
        if policy?.evaluateAtConnect(client: client) == .deny {
            throw SMTPError(554, .init(5, 7, 1), "Access denied", reason: "traffic policy \(policy!.name) denies the connection")
        }
    }

    public func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        if let refusal = relay.check(recipient: recipient, client: client) { throw refusal }
        if let policy, policy.evaluate(client: client, recipient: recipient) == .deny {
            throw SMTPError(
                550, .init(5, 7, 1), "<\(recipient)>: Recipient address rejected by policy",
                reason: "traffic policy \(policy.name) denies")
        }
        if let refusal = await limiter?.admitRecipient(client: client, sender: sender) { throw refusal }
    }
}
