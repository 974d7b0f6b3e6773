// ReloadableAcceptPolicy: a listener's accept stage, swapped atomically when
// the configuration is reloaded; sessions read the current one per check.

import NIOConcurrencyHelpers
import SluiceCore
import SluicePolicy

final class ReloadableAcceptPolicy: SessionCheck {
    private let box: NIOLockedValueBox<AcceptPolicy>

    init(_ policy: AcceptPolicy) { box = NIOLockedValueBox(policy) }

    func replace(_ policy: AcceptPolicy) { box.withLockedValue { $0 = policy } }
    var current: AcceptPolicy { box.withLockedValue { $0 } }

    func checkConnection(_ client: ClientInfo) async throws { try await current.checkConnection(client) }

    func checkSender(_ sender: MailAddress?, client: ClientInfo) async throws {
        try await current.checkSender(sender, client: client)
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo) async throws {
        try await current.checkRecipient(recipient, sender: sender, client: client)
    }
}
