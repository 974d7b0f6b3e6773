// ReloadableAcceptPolicy: a listener's accept stage (free queue space, traffic
// policy and relay control, then sender identity), swapped atomically when the
// configuration is reloaded; sessions read the current one per check.

import NIOConcurrencyHelpers
import SluiceCore
import SluiceCredentials
import SluicePolicy
import SluiceQueue

final class ReloadableAcceptPolicy: SessionCheck {
    private let box: NIOLockedValueBox<AcceptPolicy>
    let identity: SenderIdentityCheck
    /// New transactions wait (452 4.3.1) while the queue's disk is below queue.min_free.
    let disk: DiskSpace

    init(_ policy: AcceptPolicy, identity: SenderIdentityCheck, disk: DiskSpace) {
        box = NIOLockedValueBox(policy)
        self.identity = identity
        self.disk = disk
    }

    func replace(_ policy: AcceptPolicy) { box.withLockedValue { $0 = policy } }
    var current: AcceptPolicy { box.withLockedValue { $0 } }

    func checkConnection(_ client: ClientInfo) async throws { try await current.checkConnection(client) }

    func checkSender(_ sender: MailAddress?, client: ClientInfo) async throws {
        if disk.isLow { throw DiskSpace.refusal }
        try await current.checkSender(sender, client: client)
        try await identity.checkSender(sender, client: client)
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo) async throws {
        try await current.checkRecipient(recipient, sender: sender, client: client)
    }
}
