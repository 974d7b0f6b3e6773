// QuarantineIndexer: keeps the quarantine index following the queue: a
// message committed or changed while held in quarantine is recorded (with the
// rules that held it and its verdicts), one released, delivered or deleted
// is forgotten; at the start the index is rebuilt from this node's queue, so
// messages held before the index existed (or while it could not be written)
// are there too. A write that fails is logged; the queue stays the truth.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue

public struct QuarantineIndexer: QueueObserver {
    let index: any QuarantineIndex
    let queue: QueueStore
    let node: String
    let logger: Logger
    /// The daemon's indexer sees every message this node holds in quarantine (it records them as they are queued, and
    /// finds the older ones when it rebuilds): it forgets only those, instead of asking the index to forget every
    /// message that leaves the queue (a database round trip per message with a shared index). nil: every change is
    /// written (a command's indexer, which sees only what it changes).
    let held: NIOLockedValueBox<Set<QueueID>>?

    /// `followsTheQueue`: this indexer observes every change of the queue (the daemon's).
    public init(index: any QuarantineIndex, queue: QueueStore, node: String, logger: Logger, followsTheQueue: Bool = false) {
        self.index = index
        self.queue = queue
        self.node = node
        self.logger = logger
        held = followsTheQueue ? NIOLockedValueBox([]) : nil
    }

    public func queued(_ entry: QueueEntry) async {
        // A message just queued is in no index unless it is held.
        guard entry.isQuarantined else { return }
        await changed(entry.id, to: entry)
    }

    public func changed(_ id: QueueID, to entry: QueueEntry?) async {
        do {
            if let entry, entry.isQuarantined {
                held?.withLockedValue { _ = $0.insert(id) }
                try await index.record(QuarantineRecord(entry, node: node, subject: subject(of: id)))
            } else {
                if let held, held.withLockedValue({ $0.remove(id) == nil }) { return }  // never held here: nothing to forget
                try await index.remove(id)
            }
        } catch {
            logger.event(.error, level: .error, "cannot update the quarantine index", [.queueID: id.rawValue, .error: "\(error)"])
        }
    }

    /// Records every quarantined message of the queue and forgets what the queue no longer holds in quarantine. The
    /// queue is read by its listing records (a few hundred bytes a message, on `io`'s threads when given, never on the
    /// cooperative pool), and only quarantined messages in full: a start with a million messages queued costs
    /// seconds of file reads, not a JSON decode of each.
    public func rebuild(io: NIOThreadPool? = nil) async throws {
        let queue = self.queue
        let scan: @Sendable () throws -> [QueueID] = {
            var quarantined: [QueueID] = []
            try queue.forEachListingChunk(threads: 2) { chunk in
                for (id, listing) in chunk {
                    // A listing that does not read: its full entry says (and a state that cannot be read is set aside there).
                    if case .success(let l) = listing, l.state != .quarantined { continue }
                    quarantined.append(id)
                }
            }
            return quarantined
        }
        let candidates: [QueueID]
        if let io { candidates = try await io.runIfActive(scan) } else { candidates = try scan() }
        var found = Set<QueueID>()
        for id in candidates {
            guard let e = try queue.load(id), e.isQuarantined else { continue }
            found.insert(id)
            self.held?.withLockedValue { _ = $0.insert(id) }
            try await index.record(QuarantineRecord(e, node: node, subject: subject(of: id)))
        }
        for id in try await index.ids(node: node) where !found.contains(id) { try await index.remove(id) }
    }

    /// The decoded Subject of a queued message (from its first 64 KiB).
    func subject(of id: QueueID) -> String {
        guard let h = FileHandle(forReadingAtPath: queue.messagePath(for: id)) else { return "" }
        defer { try? h.close() }  // a read-only handle: closing cannot lose anything
        guard let data = try? h.read(upToCount: 64 << 10) else { return "" }  // the subject is only shown
        let bytes = [UInt8](data)
        let end = bytes.firstRange(of: [13, 10, 13, 10])?.upperBound ?? bytes.count
        return MessageHeaders(parsing: bytes[..<end]).first("Subject").map(HeaderDecoding.decodeEncodedWords)?.trimmingCharacters(in: .whitespaces) ?? ""
    }
}
