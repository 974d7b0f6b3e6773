// ReloadableAcceptPolicy: a listener's accept stage (traffic policy and relay
// control, then sender identity), swapped atomically when the configuration is
// reloaded; sessions read the current one per check.

import NIOConcurrencyHelpers
import SluiceCore
import SluiceCredentials
import SluicePolicy

final class ReloadableAcceptPolicy: SessionCheck {
    private let box: NIOLockedValueBox<AcceptPolicy>
    let identity: SenderIdentityCheck

    init(_ policy: AcceptPolicy, identity: SenderIdentityCheck) {
        box = NIOLockedValueBox(policy)
        self.identity = identity
    }

    func replace(_ policy: AcceptPolicy) { box.withLockedValue { $0 = policy } }
    var current: AcceptPolicy { box.withLockedValue { $0 } }

    func checkConnection(_ client: ClientInfo) async throws { try await current.checkConnection(client) }

    func checkSender(_ sender: MailAddress?, client: ClientInfo) async throws {
        try await current.checkSender(sender, client: client)
        try await identity.checkSender(sender, client: client)
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo) async throws {
        try await current.checkRecipient(recipient, sender: sender, client: client)
    }
}
