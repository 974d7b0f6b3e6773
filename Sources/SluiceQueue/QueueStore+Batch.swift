// QueueStore.modify for many messages at once: an operator's `queue retry
// --all` or `release` of a large backlog. Each message is changed under its
// lock, as `modify` does, but the new states are written without an fsync
// each, made durable together by one syncfs, and only then renamed into place
// (one directory fsync for the batch). 100,000 retries once took a minute of
// fsyncs before the first message could leave.

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

extension QueueStore {
    /// Messages changed per batch at most (each holds a descriptor and its lock until the batch is durable).
    public static let batchLimit = 256

    /// `modify` for each id (at most `batchLimit`), in order; returns each entry as it is afterwards (nil: not queued).
    /// Durable when it returns, like `modify`. A change that throws leaves every message of the batch as it was.
    public func modify(batch ids: [QueueID], _ change: (QueueEntry) throws -> Change) throws -> [(id: QueueID, entry: QueueEntry?)] {
        precondition(ids.count <= Self.batchLimit)
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        var results: [(id: QueueID, entry: QueueEntry?)] = []
        var staged: [(id: QueueID, tmp: String)] = []
        var removed: [QueueID] = []
        do {
            for id in ids {
                guard let fd = try lockMessage(id) else {
                    results.append((id, nil))
                    continue
                }
                descriptors.append(fd)
                guard let current = try loadUnlocked(id) else {
                    results.append((id, nil))
                    continue
                }
                switch try change(current) {
                case .keep:
                    results.append((id, current))
                case .remove:
                    removed.append(id)
                    results.append((id, nil))
                case .update(let entry):
                    staged.append((id, try stageState(entry, durable: false)))
                    results.append((id, entry))
                }
            }
        } catch {
            for s in staged { try? FileSystem.remove(s.tmp) }
            throw error
        }
        if !staged.isEmpty {
            do {
                try FileSystem.syncFileSystem(containing: tmpDir)
            } catch {
                for s in staged { try? FileSystem.remove(s.tmp) }
                throw error
            }
            for s in staged {
                try FileSystem.rename(s.tmp, statePath(for: s.id))
                recentEndRecords.withLockedValue { $0[s.id] = nil }
            }
            try stateSync.sync()
        }
        for id in removed { try removeUnlocked(id, durable: false) }
        if !removed.isEmpty { try activeSync.sync() }
        return results
    }
}
