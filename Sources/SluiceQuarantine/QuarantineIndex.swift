// QuarantineIndex: the storage contract of what is held in quarantine where
// (R-RULES-2, R-DELIVER-7): per message, the node holding it, the held
// recipients, the rules that held it and why, and the verdicts' summaries,
// so that `sluice quarantine list` (and, with a shared backend, a console
// over several nodes) answers from an index instead of reading every queue
// file. The queue stays the truth: the index follows it (QuarantineIndexer)
// and is rebuilt from it at the start. SQLiteQuarantineIndex is the embedded
// one; the contract suite runs against any.

import Foundation
import SluiceCore

public struct QuarantineRecord: Sendable, Equatable {
    public var queueID: QueueID
    /// The node (hostname) whose queue holds it.
    public var node: String
    public var queuedAt: Date
    /// The envelope sender ("<>" for the null sender).
    public var sender: String
    public var subject: String
    public var size: Int
    /// The recipients held.
    public var recipients: [String]
    /// "rule NAME (when ...: yes)", once each.
    public var reasons: [String]
    /// "pci=2", "spf=pass dkim=none dmarc=fail" ... by verdict name.
    public var verdicts: [String: String]

    public init(
        queueID: QueueID, node: String, queuedAt: Date, sender: String, subject: String, size: Int, recipients: [String], reasons: [String],
        verdicts: [String: String]
    ) {
        self.queueID = queueID
        self.node = node
        self.queuedAt = queuedAt
        self.sender = sender
        self.subject = subject
        self.size = size
        self.recipients = recipients
        self.reasons = reasons
        self.verdicts = verdicts
    }
}

/// Which held messages a listing wants; every filter given must hold.
public struct QuarantineQuery: Sendable {
    /// Held by this rule.
    public var rule: String?
    /// The sender contains this (case-insensitive).
    public var from: String?
    /// Queued before this.
    public var queuedBefore: Date?
    public var node: String?
    public var limit = 1000

    public init() {}
}

/// What an operator on one node asked of a message another node holds: the holding node applies it to its queue.
public struct QuarantineRequest: Sendable, Equatable {
    public enum Action: String, Sendable {
        case release, delete
    }

    public var queueID: QueueID
    public var action: Action
    /// Release only this recipient (nil: every held one).
    public var only: String?
    /// The node that asked.
    public var by: String

    public init(queueID: QueueID, action: Action, only: String?, by: String) {
        self.queueID = queueID
        self.action = action
        self.only = only
        self.by = by
    }
}

public protocol QuarantineIndex: Sendable {
    /// Adds or replaces the record of a message.
    func record(_ record: QuarantineRecord) async throws
    /// Forgets a message (released, deleted, delivered).
    func remove(_ id: QueueID) async throws
    /// Oldest first.
    func list(_ query: QuarantineQuery) async throws -> [QuarantineRecord]
    func record(for id: QueueID) async throws -> QuarantineRecord?
    /// Every message the index holds for a node (to rebuild it from that node's queue).
    func ids(node: String) async throws -> [QueueID]
    /// Leaves a request for `node`, which holds the message (an index shared by several nodes).
    func request(_ request: QuarantineRequest, node: String) async throws
    /// The requests left for `node`, oldest first, taken: each is returned once.
    func takeRequests(node: String) async throws -> [QuarantineRequest]
}

extension QuarantineIndex {
    /// An index of one node's quarantine has no other node to ask.
    public func request(_ request: QuarantineRequest, node: String) async throws {
        throw QuarantineIndexError("\(request.queueID) is held by \(node), and this quarantine index is not shared with it (storage.backend)")
    }

    public func takeRequests(node: String) async throws -> [QuarantineRequest] { [] }
}
