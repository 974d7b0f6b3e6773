// QueueStore: the durable queue on disk, with Postfix's discipline: one queue
// file per message, and a file without its end record is never delivered.
//
//   tmp/ID          a message being received: its bytes, then (at commit) the end record
//   active/ID       committed queue files
//   state/ID.json   delivery state, once a message has been attempted and kept (deferred, held)
//
// Commit: append the envelope and plan as the end record, fsync the file,
// rename it into active/, fsync active/ (shared by concurrent commits). Only
// then may the server answer 250. One file fsync per accepted message.
//
// End record: the envelope JSON, "\n", then a fixed 36-byte footer:
// 20 decimal digits giving the offset where the JSON starts (= the message
// length), and " SLUICE-QUEUE-1\n".

import Foundation
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
    private let activeSync: DirectorySync
    private let stateSync: DirectorySync

    static let magic = " SLUICE-QUEUE-1\n"
    static let footerLength = 20 + magic.utf8.count

    public init(directory: String) throws {
        self.directory = directory
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
    /// The committed queue file; its first `entry.size` bytes are the message.
    public func messagePath(for id: QueueID) -> String { "\(activeDir)/\(id)" }
    func statePath(for id: QueueID) -> String { "\(stateDir)/\(id).json" }

    /// Makes a spooled message part of the queue: end record, fsync, rename, fsync dir.
    /// `entry.size` must be the number of message bytes in the spool file.
    public func commit(_ entry: QueueEntry) throws {
        let path = spoolPath(for: entry.id)
        let file = try SpoolFile(appendingTo: path)
        do {
            guard file.offset == entry.size else {
                throw FileSystemError(operation: "commit (size \(file.offset) != \(entry.size))", path: path, code: EINVAL)
            }
            var record = Array(try Self.encoder.encode(entry))
            record.append(10)
            record += Array(String(format: "%020d", entry.size).utf8) + Array(Self.magic.utf8)
            try file.write(record)
            try file.sync()
            try file.close()
        } catch {
            file.discard()
            throw error
        }
        try FileSystem.rename(path, messagePath(for: entry.id))
        try activeSync.sync()
    }

    /// Records delivery state (attempts, per-route results, hold) atomically.
    public func update(_ entry: QueueEntry) throws {
        let data = try Self.encoder.encode(entry)
        let tmp = "\(tmpDir)/\(entry.id).state"
        try FileSystem.writeDurably(Array(data), to: tmp)
        try FileSystem.rename(tmp, statePath(for: entry.id))
        try stateSync.sync()
    }

    /// Removes a message (delivered, bounced or deleted by an operator).
    public func remove(_ id: QueueID) throws {
        try FileSystem.remove(messagePath(for: id))
        try FileSystem.remove(statePath(for: id))
        try activeSync.sync()
    }

    /// The entry: its latest state if it has one, else the end record. nil if not queued.
    public func load(_ id: QueueID) throws -> QueueEntry? {
        guard FileSystem.exists(messagePath(for: id)) else { return nil }
        if let data = FileManager.default.contents(atPath: statePath(for: id)) {
            return try Self.decoder.decode(QueueEntry.self, from: data)
        }
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

    /// Ids of every committed message, oldest first.
    public func ids() -> [QueueID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: activeDir)) ?? []
        return names.compactMap(QueueID.init).sorted()
    }

    /// Every committed entry; unreadable ones are reported, not skipped silently.
    public func entries() -> [Result<QueueEntry, any Error>] {
        ids().compactMap { id in
            do { return try load(id).map { .success($0) } } catch { return .failure(error) }
        }
    }

    /// Start-up recovery: unfinished spools and stray state files go away; a
    /// committed file without a valid end record (disk damage) is moved to
    /// corrupt/ for an operator, never delivered. Returns what it did, for the log.
    @discardableResult
    public func recover() throws -> [String] {
        var actions: [String] = []
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: tmpDir)) ?? [] {
            try FileSystem.remove("\(tmpDir)/\(name)")
            actions.append("removed tmp/\(name)")
        }
        let committed = Set(ids().map(\.rawValue))
        for name in (try? fm.contentsOfDirectory(atPath: stateDir)) ?? [] where !committed.contains(String(name.prefix(16))) {
            try FileSystem.remove("\(stateDir)/\(name)")
            actions.append("removed state/\(name)")
        }
        for id in ids() {
            do {
                _ = try readEndRecord(messagePath(for: id))
            } catch {
                try FileSystem.makeDirectory(corruptDir)
                try FileSystem.rename(messagePath(for: id), "\(corruptDir)/\(id)")
                actions.append("moved active/\(id) to corrupt/: \(error)")
            }
        }
        return actions
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return d
    }()
}

public struct QueueCorruption: Error, CustomStringConvertible {
    public let path: String
    public let why: String
    public var description: String { "\(path): \(why)" }
}
