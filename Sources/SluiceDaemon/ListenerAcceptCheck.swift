// ListenerAcceptCheck: a listener's accept stage during the dialogue: free
// queue space, then the listener's traffic policy and relay control (from the
// runtime current at each check, so a reload applies to the next one), then
// the sender identity at MAIL FROM.

import SluiceCore
import SluiceCredentials
import SluicePipeline
import SluicePolicy
import SluiceQueue

struct ListenerAcceptCheck: SessionCheck {
    let listener: String
    let runtime: RuntimeHolder
    let identity: SenderIdentityCheck
    /// New transactions wait (452 4.3.1) while the queue's disk is below queue.min_free.
    let disk: DiskSpace

    var policy: AcceptPolicy { runtime.current.acceptPolicy(forListener: listener) }

    func checkConnection(_ client: ClientInfo) async throws { try await policy.checkConnection(client) }

    func checkSender(_ sender: MailAddress?, client: ClientInfo) async throws {
        if disk.isLow { throw DiskSpace.refusal }
        try await policy.checkSender(sender, client: client)
        try await identity.checkSender(sender, client: client)
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo) async throws {
        try await policy.checkRecipient(recipient, sender: sender, client: client)
    }
}
