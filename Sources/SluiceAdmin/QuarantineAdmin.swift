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

    /// What a release or a deletion did: done here, or asked of the node that holds the message.
    public enum Outcome: Sendable, Equatable {
        case released([MailAddress])
        case deleted
        /// Left for that node (a shared index): its daemon applies it at its next look at the store.
        case requested(node: String)
    }

    /// The node holding a message when it is not this one (the shared index says so); nil for this node's.
    func otherNode(_ id: String) async throws -> QuarantineRecord? {
        let qid = try QueueAdmin.parseID(id)
        do {
            guard let record = try await index.record(for: qid), record.node != node else { return nil }
            return record
        } catch {
            // The index cannot answer (a shared one down): a message of this node's queue is still handled here.
            guard try queue.store.load(qid) != nil else {
                throw AdminError("\(qid) is not in this node's queue, and the quarantine index cannot say which node holds it: \(error)")
            }
            return nil
        }
    }

    /// Releases a message to every held recipient, or to `only`: here when this node holds it, else by a request to
    /// the node that does.
    public func release(_ id: String, only: String?) async throws -> Outcome {
        if let record = try await otherNode(id) {
            if let only, !record.recipients.contains(where: { $0.lowercased() == only.lowercased() }) {
                throw AdminError(
                    "\(only.lowercased()) is not a quarantined recipient of \(record.queueID) (held for: \(record.recipients.joined(separator: ", ")))")
            }
            do {
                try await index.request(QuarantineRequest(queueID: record.queueID, action: .release, only: only?.lowercased(), by: node), node: record.node)
            } catch { throw AdminError("\(error)") }
            return .requested(node: record.node)
        }
        return .released(try await releaseHere(id, only: only))
    }

    /// Releases a message of this node's queue; returns the recipients released.
    public func releaseHere(_ id: String, only: String?) async throws -> [MailAddress] {
        let e = try entry(id)
        if let only, !e.quarantinedRecipients.contains(where: { $0.description.lowercased() == only.lowercased() }) {
            throw AdminError(
                "\(only.lowercased()) is not a quarantined recipient of \(e.id) (held for: \(e.quarantinedRecipients.map(\.description).joined(separator: ", ")))")
        }
        let result = try await queue.release([e.id], only: only)
        guard !result.released.isEmpty else { throw AdminError("no message \(e.id) in the queue") }
        return result.recipients
    }

    public func delete(_ id: String) async throws -> Outcome {
        if let record = try await otherNode(id) {
            do {
                try await index.request(QuarantineRequest(queueID: record.queueID, action: .delete, only: nil, by: node), node: record.node)
            } catch { throw AdminError("\(error)") }
            return .requested(node: record.node)
        }
        try await deleteHere(id)
        return .deleted
    }

    public func deleteHere(_ id: String) async throws {
        let e = try entry(id)
        _ = try await queue.delete([e.id])
    }

    /// Applies the requests other nodes left for this one; returns what each did (an error's text for one that failed).
    public func applyRequests() async throws -> [(QuarantineRequest, String)] {
        var done: [(QuarantineRequest, String)] = []
        for r in try await index.takeRequests(node: node) {
            do {
                switch r.action {
                case .release:
                    let released = try await releaseHere(r.queueID.rawValue, only: r.only)
                    done.append((r, "released to \(released.map(\.description).joined(separator: ", "))"))
                case .delete:
                    try await deleteHere(r.queueID.rawValue)
                    done.append((r, "deleted"))
                }
            } catch {
                done.append((r, "not applied: \(error)"))
            }
        }
        return done
    }
}
