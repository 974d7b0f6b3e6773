// QuarantineAdmin: `sluice quarantine list|show|release|delete`: what rules
// held, from the quarantine index (this node's messages, or every node's with
// a shared backend), and why, from the queue; released as their rules decided
// (to every held recipient or to one) or deleted, through QueueAdmin.

import Foundation
import SluiceCore
import SluiceQuarantine
import SluiceQueue

public struct QuarantineAdmin: Sendable {
    public let index: any QuarantineIndex
    public let queue: QueueAdmin
    /// This node (the index may hold other nodes' messages).
    public let node: String

    public init(index: any QuarantineIndex, queue: QueueAdmin, node: String) {
        self.index = index
        self.queue = queue
        self.node = node
    }

    /// Held messages, oldest first: every node's unless `query.node` says which.
    public func list(_ query: QuarantineQuery) async throws -> [QuarantineRecord] {
        do { return try await index.list(query) } catch { throw AdminError("cannot read the quarantine index: \(error)") }
    }

    /// A message of this node's quarantine, in full (the rules, the findings, the verdicts).
    public func entry(_ id: String) throws -> QueueEntry {
        let e = try queue.entry(id)
        guard e.isQuarantined else { throw AdminError("\(e.id) is not in quarantine (sluice queue show \(e.id))") }
        return e
    }

    /// Releases a message to every held recipient, or to `only`; returns the recipients released.
    public func release(_ id: String, only: String?) async throws -> [MailAddress] {
        let e = try entry(id)
        if let only, !e.quarantinedRecipients.contains(where: { $0.description.lowercased() == only.lowercased() }) {
            throw AdminError(
                "\(only.lowercased()) is not a quarantined recipient of \(e.id) (held for: \(e.quarantinedRecipients.map(\.description).joined(separator: ", ")))")
        }
        let result = try await queue.release([e.id], only: only)
        guard !result.released.isEmpty else { throw AdminError("no message \(e.id) in the queue") }
        return result.recipients
    }

    public func delete(_ id: String) async throws {
        let e = try entry(id)
        _ = try await queue.delete([e.id])
    }
}
