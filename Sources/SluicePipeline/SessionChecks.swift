// SessionChecks: the components' session checks as one, run in list order:
// the first refusal answers. Facts they record reach the message's verdicts.

import SluiceCore

public struct SessionChecks: SessionCheck {
    public let checks: [any SessionCheck]

    public init(_ checks: [any SessionCheck]) { self.checks = checks }

    public func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        for c in checks { try await c.checkConnection(client, facts: &facts) }
    }

    public func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        for c in checks { try await c.checkSender(sender, client: client, facts: &facts) }
    }

    public func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        for c in checks { try await c.checkRecipient(recipient, sender: sender, client: client, facts: &facts) }
    }
}
