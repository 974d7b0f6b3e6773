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
}
