// QueueStore recovery: what a start finds in the queue — spools of messages
// being received when the daemon stopped, files it cannot read — set aside
// in corrupt/ (listed, logged, counted), never delivered and never lost.

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

extension QueueStore {
    /// Start-up recovery, before the first 250: unfinished spools go away, and a commit whose rename a crash lost is
    /// completed. It reads tmp/ only, so a restart with a large queue listens at once: committed files are checked as
    /// the queue manager indexes them (`setAsideIfCorrupt`), stray state files removed then (`removeStrayStates`).
    /// Returns what it did.
    @discardableResult
    public func recover() throws -> [String] {
        var actions: [String] = []
        var completed = false
        for name in try Self.names(in: tmpDir) {
            let path = "\(tmpDir)/\(name)"
            // A commit whose rename the crash lost: complete, fsync'd, its checksum matching.
            if let id = QueueID(name) {
                let why = unfinishedCommit(path, id: id)
                if why == nil {
                    try FileSystem.rename(path, messagePath(for: id))
                    completed = true
                    actions.append("completed the commit of tmp/\(name) (its move into active/ was lost)")
                    continue
                }
                try FileSystem.remove(path)
                actions.append("removed tmp/\(name) (\(why!))")
                continue
            }
            try FileSystem.remove(path)
            actions.append("removed tmp/\(name)")
        }
        if completed { try activeSync.sync() }
        // The queue itself must be readable (opened, not listed): a start never takes it for an empty queue.
        for directory in [activeDir, stateDir] {
            let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else {
                let why = String(cString: strerror(errno))
                throw QueueCorruption(path: directory, why: "cannot read the queue directory: \(why)")
            }
            close(fd)
        }
        return actions
    }

    /// State files whose message is gone (a crash between the two unlinks of a removal) go away. Harmless meanwhile
    /// (a state is read only for a committed message), so the queue manager does it with its first index, after the
    /// daemon listens, from the ids it listed: with a million messages, two directory listings would hold up the start.
    public func removeStrayStates(committed ids: [QueueID]) throws -> [String] {
        let committed = Set(ids.map(\.rawValue))
        var actions: [String] = []
        for name in try Self.names(in: stateDir) where !committed.contains(String(name.prefix(16))) {
            // Committed since the listing: not stray.
            guard let id = QueueID(String(name.prefix(16))), !FileSystem.exists(messagePath(for: id)) else { continue }
            try FileSystem.remove("\(stateDir)/\(name)")
            actions.append("removed state/\(name)")
        }
        return actions
    }

    /// A committed file without a valid end record (disk damage) is moved, with its state, to corrupt/ for an
    /// operator, never delivered: checked under the message's lock. Returns what it did, or nil when the file reads
    /// (or is gone, or cannot be opened now: an error that is not damage is left for the next look).
    public func setAsideIfCorrupt(_ id: QueueID) throws -> String? {
        let path = messagePath(for: id)
        guard let fd = try lockMessage(id) else { return nil }
        defer { close(fd) }
        do {
            _ = try readEndRecord(path)
            return nil
        } catch is FileSystemError {
            return nil
        } catch {
            try FileSystem.makeDirectory(corruptDir)
            try FileSystem.rename(path, "\(corruptDir)/\(id)")
            if FileSystem.exists(statePath(for: id)) { try FileSystem.rename(statePath(for: id), "\(corruptDir)/\(id).state.json") }
            recentEndRecords.withLockedValue { $0[id] = nil }
            return "moved active/\(id) to corrupt/: \(error)"
        }
    }

    /// What corrupt/ holds, for `sluice queue list` and /metrics: file name and size, oldest first.
    public func corruptFiles() throws -> [(name: String, size: Int)] {
        // corrupt/ is made when the first file goes there.
        try Self.names(in: corruptDir, missingIsEmpty: true).sorted().compactMap { name in
            // A file an operator removed since the listing is simply gone.
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: "\(corruptDir)/\(name)") else { return nil }
            return (name, attributes[.size] as? Int ?? 0)
        }
    }
}
