// QueueStore: the durable queue on disk, with Postfix's discipline: one queue
// file per message, and a file without its end record is never delivered.
//
//   tmp/ID          a message being received: its bytes, then (at commit) the end record
//   active/ID       committed queue files
//   state/ID.json   delivery state, once a message has been attempted and kept (deferred, held)
//   corrupt/        what cannot be read: a queue file without its end record, or
//                   an unreadable state file (ID.state.json), kept for an operator
//
// Commit: append the envelope and plan (with a CRC-32 of the message) as the
// end record, fsync the file, rename it into active/. Only then may the server
// answer 250. One fsync per accepted message: the directory is not synced
// after the rename; if a crash loses the rename, the file is still in tmp/,
// complete and fsync'd, and recovery finishes the commit when its checksum
// matches (a file whose fsync a crash interrupted does not match and is
// removed: its client never got the 250).
//
// This type is the only writer of queue files. A change to a queued message's
// state — by the queue manager after a delivery attempt, or by an operator's
// `sluice queue hold|release|retry|delete`, in the daemon or in another
// process — goes through `modify`, which holds an exclusive lock on the
// message's queue file (flock) while it reads the current state, applies the
// change and writes it: no update is lost when they race.
//
// End record: the listing record (QueueListingRecord: what `queue list` reads),
// the envelope JSON, "\n", then a fixed 36-byte footer: 20 decimal digits
// giving the offset where the JSON starts, and " SLUICE-QUEUE-1\n". Files of
// earlier versions have no listing record (the JSON starts at the message's
// end); both read the same way, and an earlier version reads these (it finds
// the JSON by the offset and the message by the size the JSON gives).
// A state file is the listing record followed by the entry's JSON (only the
// JSON in earlier versions).

import CZlib
import Foundation
import NIOConcurrencyHelpers
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

public final class QueueStore: Sendable {
    public let directory: String
    let tmpDir: String
    let activeDir: String
    let stateDir: String
    let corruptDir: String
    let activeSync: DirectorySync
    let stateSync: DirectorySync

    static let magic = " SLUICE-QUEUE-1\n"
    static let footerLength = 20 + magic.utf8.count

    /// Told when a file of the queue cannot be read and is moved to corrupt/ (the daemon logs and counts it).
    let corruptionSeen: (@Sendable (QueueID, String) -> Void)?

    /// End records of messages this process committed and nobody has changed since (no state file): the first
    /// attempt and its update read them here instead of decoding the queue file again. An end record never
    /// changes, and a state file (written by any process) always takes precedence. Bounded.
    let recentEndRecords = NIOLockedValueBox<[QueueID: QueueEntry]>([:])
    static let recentLimit = 4096

    public init(directory: String, onCorruption: (@Sendable (QueueID, String) -> Void)? = nil) throws {
        self.directory = directory
        corruptionSeen = onCorruption
        tmpDir = directory + "/tmp"
        activeDir = directory + "/active"
        stateDir = directory + "/state"
        corruptDir = directory + "/corrupt"
        for d in [tmpDir, activeDir, stateDir] { try FileSystem.makeDirectory(d) }
        activeSync = DirectorySync(path: activeDir)
        stateSync = DirectorySync(path: stateDir)
    }

    /// Where a message in flight is spooled before commit.
    public func spoolPath(for id: QueueID) -> String { "\(tmpDir)/\(id)" }

    /// The spool a receiver writes a message in flight to (then `commit`, or `discardSpool`). Blocking.
    public func createSpool(for id: QueueID) throws -> SpoolFile { try SpoolFile(creating: spoolPath(for: id)) }

    /// Throws away a message in flight that will not be committed (refused, aborted, failed to write).
    public func discardSpool(for id: QueueID) throws { try FileSystem.remove(spoolPath(for: id)) }
    /// The committed queue file; its first `entry.size` bytes are the message.
    public func messagePath(for id: QueueID) -> String { "\(activeDir)/\(id)" }
    func statePath(for id: QueueID) -> String { "\(stateDir)/\(id).json" }

    /// Makes a spooled message part of the queue: end record, fsync, rename, fsync dir.
    /// `entry.size` must be the number of message bytes in the spool file.
    public func commit(_ entry: QueueEntry) throws {
        let path = spoolPath(for: entry.id)
        var entry = entry
        let file = try SpoolFile(appendingTo: path)
        do {
            guard file.offset == entry.size else {
                throw FileSystemError(operation: "commit (size \(file.offset) != \(entry.size))", path: path, code: EINVAL)
            }
            entry.checksum = try Self.checksum(path, length: entry.size)
            let listing = QueueListingRecord.encode(QueueListing(entry))
            var record = listing + Array(try Self.encoder.encode(entry))
            record.append(10)
            record += Array(String(format: "%020d", entry.size + listing.count).utf8) + Array(Self.magic.utf8)
            try file.write(record)
            try file.sync()
            try file.close()
        } catch {
            file.discard()
            throw error
        }
        try FileSystem.rename(path, messagePath(for: entry.id))
        remember(entry)
    }

    /// Why a spool file in tmp/ is not a finished commit (nil when it is: end record, checksum, not in active/).
    func unfinishedCommit(_ path: String, id: QueueID) -> String? {
        let entry: QueueEntry
        do { entry = try readEndRecord(path) } catch { return "a message being received, never committed: \(error)" }
        guard entry.id == id else { return "its end record names \(entry.id)" }
        guard let sum = entry.checksum else { return "committed by an earlier version, no checksum" }
        do {
            guard try Self.checksum(path, length: entry.size) == sum else { return "its bytes do not match the checksum (a torn write)" }
        } catch {
            return "unreadable: \(error)"
        }
        if FileSystem.exists(messagePath(for: id)) { return "already in active/" }
        return nil
    }

    /// CRC-32 of a file's first `length` bytes (read back from the page cache).
    static func checksum(_ path: String, length: Int) throws -> UInt32 {
        var crc = crc32(0, nil, 0)
        try QueueFileReader.chunks(path, offset: 0, length: length) { chunk in
            crc = chunk.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        }
        return UInt32(crc)
    }

    private func remember(_ entry: QueueEntry) {
        recentEndRecords.withLockedValue { if $0.count < Self.recentLimit { $0[entry.id] = entry } }
    }

    /// A complete message in memory (a bounce the daemon writes) made part of the queue: one write, one fsync.
    public func submit(_ bytes: [UInt8], _ entry: QueueEntry) throws {
        let path = spoolPath(for: entry.id)
        do {
            let file = try SpoolFile(creating: path)
            do {
                try file.write(bytes)
                try file.close()
            } catch {
                file.discard()
                throw error
            }
            try commit(entry)
        } catch {
            // The error is thrown; a spool left behind anyway is removed by recovery at the next start.
            try? FileSystem.remove(path)
            throw error
        }
    }

    /// What `modify` does with the entry it read.
    public enum Change: Sendable {
        /// Write this state.
        case update(QueueEntry)
        /// The message is done (delivered, bounced, deleted): remove it.
        case remove
        /// Leave it as it is.
        case keep
    }

    /// Reads the message's current state, lets `change` decide, and writes the result, all under an exclusive
    /// lock on the queue file that every writer of the state honours (the queue manager, the CLI of an
    /// operator, concurrent tasks). Returns the entry as it is afterwards: nil if it is not queued (any more).
    /// A state file that cannot be read is moved to corrupt/ and the message goes on from its end record.
    /// `durableRemoval`: a removal is fsync'd before returning (an operator's delete). The queue manager's removal
    /// of a delivered message is not: if a crash forgets it, the message is delivered again (as with Postfix),
    /// never lost, and the fsync is saved on every message.
    @discardableResult
    public func modify(_ id: QueueID, durableRemoval: Bool = true, _ change: (QueueEntry) throws -> Change) throws -> QueueEntry? {
        guard let fd = try lockMessage(id) else { return nil }
        defer { close(fd) }
        guard let current = try loadUnlocked(id) else { return nil }
        switch try change(current) {
        case .keep:
            return current
        case .remove:
            try removeUnlocked(id, durable: durableRemoval)
            return nil
        case .update(let entry):
            try writeState(entry)
            recentEndRecords.withLockedValue { $0[id] = nil }
            return entry
        }
    }

    /// The message's queue file, open and exclusively locked (every writer of its state takes this lock); nil when it
    /// is not queued, or was removed while we waited for the lock. The caller closes the descriptor (the lock goes with it).
    func lockMessage(_ id: QueueID) throws -> Int32? {
        let path = messagePath(for: id)
        guard let fd = try FileSystem.openForReading(path) else { return nil }
        while flock(fd, LOCK_EX) < 0 {
            if errno != EINTR {
                let code = errno
                close(fd)
                throw FileSystemError(operation: "lock", path: path, code: code)
            }
        }
        guard FileSystem.exists(path) else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Removes a message (delivered, bounced or deleted by an operator), under its lock.
    public func remove(_ id: QueueID) throws {
        try modify(id) { _ in .remove }
    }

    func removeUnlocked(_ id: QueueID, durable: Bool) throws {
        recentEndRecords.withLockedValue { $0[id] = nil }
        try FileSystem.remove(statePath(for: id))
        try FileSystem.remove(messagePath(for: id))
        if durable { try activeSync.sync() }
    }

    /// Writes delivery state atomically: a temporary file of its own (several processes may write), fsync,
    /// rename over the old state, fsync the directory.
    private func writeState(_ entry: QueueEntry) throws {
        let tmp = try stageState(entry, durable: true)
        do {
            try FileSystem.rename(tmp, statePath(for: entry.id))
        } catch {
            try? FileSystem.remove(tmp)
            throw error
        }
        try stateSync.sync()
    }

    /// Writes a state to a temporary file of its own (fsync'd if `durable`) and returns its path; the caller renames it
    /// over the state, or removes it.
    func stageState(_ entry: QueueEntry, durable: Bool) throws -> String {
        let data = QueueListingRecord.encode(QueueListing(entry)) + Array(try Self.encoder.encode(entry))
        let tmp = "\(tmpDir)/\(entry.id).state.\(getpid()).\(Self.temporaryCounter.next())"
        do {
            if durable { try FileSystem.writeDurably(Array(data), to: tmp) } else { try FileSystem.write(Array(data), to: tmp) }
        } catch {
            try? FileSystem.remove(tmp)
            throw error
        }
        return tmp
    }

    static let temporaryCounter = Counter()

    /// The entry: its latest state if it has one, else the end record. nil if not queued.
    /// Throws QueueCorruption for a state file that cannot be read (the next `modify` moves it to corrupt/).
    public func load(_ id: QueueID) throws -> QueueEntry? {
        guard FileSystem.exists(messagePath(for: id)) else { return nil }
        if let data = FileManager.default.contents(atPath: statePath(for: id)) {
            do {
                return try Self.decoder.decode(QueueEntry.self, from: Self.stateJSON(data))
            } catch {
                throw QueueCorruption(path: statePath(for: id), why: "unreadable state: \(error)")
            }
        }
        return try readEndRecord(messagePath(for: id))
    }

    /// `load` for a holder of the message's lock: an unreadable state file is moved to corrupt/ here.
    func loadUnlocked(_ id: QueueID) throws -> QueueEntry? {
        let state = statePath(for: id)
        if let data = FileManager.default.contents(atPath: state) {
            do {
                return try Self.decoder.decode(QueueEntry.self, from: Self.stateJSON(data))
            } catch {
                try FileSystem.makeDirectory(corruptDir)
                try FileSystem.rename(state, "\(corruptDir)/\(id).state.json")
                corruptionSeen?(id, "state file unreadable (\(error)); moved to corrupt/\(id).state.json, delivery resumes from the original plan")
            }
        }
        guard FileSystem.exists(messagePath(for: id)) else { return nil }
        if let known = recentEndRecords.withLockedValue({ $0[id] }) { return known }
        return try readEndRecord(messagePath(for: id))
    }

    func readEndRecord(_ path: String) throws -> QueueEntry {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileSystemError(operation: "open", path: path, code: errno)
        }
        defer { try? handle.close() }
        let end = try handle.seekToEnd()
        guard end >= UInt64(Self.footerLength) else { throw QueueCorruption(path: path, why: "no end record") }
        try handle.seek(toOffset: end - UInt64(Self.footerLength))
        let footer = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        guard footer.hasSuffix(Self.magic), let offset = UInt64(footer.prefix(20)), offset < end - UInt64(Self.footerLength)
        else { throw QueueCorruption(path: path, why: "no end record") }
        try handle.seek(toOffset: offset)
        guard let json = try handle.read(upToCount: Int(end - offset) - Self.footerLength - 1) else {
            throw QueueCorruption(path: path, why: "short end record")
        }
        return try Self.decoder.decode(QueueEntry.self, from: json)
    }

    /// Keys sorted: what this binary keeps without knowing it (another version's verdicts) is written back as read.
    static let encoder = StoredJSON.encoder()
    static let decoder = StoredJSON.decoder()
}

/// A process-wide counter for unique temporary names.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

public struct QueueCorruption: Error, CustomStringConvertible {
    public let path: String
    public let why: String
    public var description: String { "\(path): \(why)" }
}
