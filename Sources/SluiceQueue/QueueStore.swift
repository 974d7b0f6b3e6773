// QueueStore: the durable queue on disk, with Postfix's discipline.
//
//   tmp/ID.eml         a message being received (never delivered; removed at start)
//   messages/ID.eml    the queued message bytes
//   envelopes/ID.json  its envelope, plan and delivery state
//
// Commit order: fsync the message, rename it into messages/, write and fsync the
// envelope under tmp/, rename it into envelopes/, fsync both directories. Only
// then may the server answer 250. A message file without an envelope is an
// unfinished commit and is removed on recovery; an envelope is the commit point.

import Foundation
import SluiceCore

public final class QueueStore: Sendable {
    public let directory: String
    let tmpDir: String
    let messagesDir: String
    let envelopesDir: String
    private let messagesSync: DirectorySync
    private let envelopesSync: DirectorySync

    public init(directory: String) throws {
        self.directory = directory
        tmpDir = directory + "/tmp"
        messagesDir = directory + "/messages"
        envelopesDir = directory + "/envelopes"
        for d in [tmpDir, messagesDir, envelopesDir] { try FileSystem.makeDirectory(d) }
        messagesSync = DirectorySync(path: messagesDir)
        envelopesSync = DirectorySync(path: envelopesDir)
    }

    /// Where a message in flight is spooled before commit.
    public func spoolPath(for id: QueueID) -> String { "\(tmpDir)/\(id).eml" }
    public func messagePath(for id: QueueID) -> String { "\(messagesDir)/\(id).eml" }
    func envelopePath(for id: QueueID) -> String { "\(envelopesDir)/\(id).json" }

    /// Makes a spooled (and already fsync'd) message part of the queue.
    public func commit(_ entry: QueueEntry) throws {
        let id = entry.id
        try FileSystem.rename(spoolPath(for: id), messagePath(for: id))
        try writeEnvelope(entry)
        try messagesSync.sync()
        try envelopesSync.sync()
    }

    /// Replaces an entry's envelope file atomically (delivery state, hold).
    public func update(_ entry: QueueEntry) throws {
        try writeEnvelope(entry)
        try envelopesSync.sync()
    }

    private func writeEnvelope(_ entry: QueueEntry) throws {
        let data = try Self.encoder.encode(entry)
        let tmp = "\(tmpDir)/\(entry.id).json"
        try FileSystem.writeDurably(Array(data), to: tmp)
        try FileSystem.rename(tmp, envelopePath(for: entry.id))
    }

    /// Removes a message: the envelope first (the commit point), then the bytes.
    public func remove(_ id: QueueID) throws {
        try FileSystem.remove(envelopePath(for: id))
        try envelopesSync.sync()
        try FileSystem.remove(messagePath(for: id))
    }

    public func load(_ id: QueueID) throws -> QueueEntry? {
        guard let data = FileManager.default.contents(atPath: envelopePath(for: id)) else { return nil }
        return try Self.decoder.decode(QueueEntry.self, from: data)
    }

    /// Ids of every committed message, oldest first.
    public func ids() -> [QueueID] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: envelopesDir)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".json") else { return nil }
            return QueueID(String(name.dropLast(5)))
        }.sorted()
    }

    /// Every committed entry (unreadable envelopes are reported, not skipped silently).
    public func entries() -> [Result<QueueEntry, any Error>] {
        ids().compactMap { id in
            do { return try load(id).map { .success($0) } } catch { return .failure(QueueCorruption(id: id, underlying: error)) }
        }
    }

    /// Start-up recovery: unfinished spools and orphaned message files go away.
    /// Returns what was removed, for the log.
    @discardableResult
    public func recover() throws -> [String] {
        var removed: [String] = []
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: tmpDir)) ?? [] {
            try FileSystem.remove("\(tmpDir)/\(name)")
            removed.append("tmp/\(name)")
        }
        let committed = Set(ids().map(\.rawValue))
        for name in (try? fm.contentsOfDirectory(atPath: messagesDir)) ?? [] where name.hasSuffix(".eml") {
            if !committed.contains(String(name.dropLast(4))) {
                try FileSystem.remove("\(messagesDir)/\(name)")
                removed.append("messages/\(name)")
            }
        }
        return removed
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

public struct QueueCorruption: Error, CustomStringConvertible {
    public let id: QueueID
    public let underlying: any Error
    public var description: String { "envelope \(id) unreadable: \(underlying)" }
}
