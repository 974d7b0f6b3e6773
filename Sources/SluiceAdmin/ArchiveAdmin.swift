// ArchiveAdmin: `sluice archive search|show|export|delete|hold|release|
// rekey|stats` (R-ARCHIVE-2), as operations on whatever ArchiveStore the
// storage backend gives: the CLI parses and prints, an HTTP admin API will
// call the same. Exports stream one message at a time.

import Foundation
import SluiceArchive

public struct ArchiveAdmin: Sendable {
    public let store: any ArchiveStore

    public init(store: any ArchiveStore) { self.store = store }

    /// A page of results, newest first, and how many match in all.
    public func search(_ query: ArchiveQuery) async throws -> (messages: [ArchivedMessage], total: Int) {
        try await mapped {
            let results = try await store.search(query)
            let total = results.count < query.limit ? results.count : try await store.count(query)
            return (results, total)
        }
    }

    public func raw(id: Int64) async throws -> [UInt8] {
        guard let raw = try await store.raw(id: id) else { throw AdminError("no archived message \(id)") }
        return raw
    }

    /// The messages an operation acts on: these IDs, and with `query` every match of it (not one page).
    public func selection(ids: [Int64], query: ArchiveQuery?) async throws -> [ArchivedMessage] {
        var messages: [ArchivedMessage] = []
        if var query {
            // Every match, newest first, a page at a time.
            query.limit = 500
            try await mapped {
                while true {
                    let page = try await store.search(query)
                    messages += page
                    guard page.count == query.limit, let last = page.last else { break }
                    query.before = ArchiveCursor(last)
                }
            }
        }
        for id in ids {
            guard let m = try await store.message(id: id) else { throw AdminError("no archived message \(id)") }
            messages.append(m)
        }
        return messages
    }

    public enum ExportFormat: String, Sendable { case eml, mbox }

    /// Writes the messages as ID-QUEUEID.eml files into a directory, or appends them oldest first to one mbox file
    /// (RFC 4155, replaced); one message in memory at a time. Returns how many were written.
    @discardableResult
    public func export(_ messages: [ArchivedMessage], format: ExportFormat, to out: String) async throws -> Int {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory)
        if format == .eml && exists && !isDirectory.boolValue {
            throw AdminError("--out \(out) is a file; --format eml writes one .eml file per message into a directory")
        }
        if format == .mbox && exists && isDirectory.boolValue {
            throw AdminError("--out \(out) is a directory; --format mbox writes one file (give its name)")
        }
        guard !messages.isEmpty else { throw AdminError("nothing to export: give IDs or --search with filters") }
        var written = 0
        if format == .eml {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for m in messages {
                guard let raw = try await store.raw(id: m.id) else { continue }
                try Data(raw).write(to: URL(fileURLWithPath: "\(out)/\(m.id)-\(m.queueID).eml"))
                written += 1
            }
            return written
        }
        guard FileManager.default.createFile(atPath: out, contents: nil), let file = FileHandle(forWritingAtPath: out) else {
            throw AdminError("cannot write \(out)")
        }
        // Closing is part of writing (a failed close can mean lost bytes), so its error is the operation's; after an
        // earlier error the close is best effort.
        do {
            for m in messages.sorted(by: { ($0.receivedAt, $0.id) < ($1.receivedAt, $1.id) }) {
                guard let raw = try await store.raw(id: m.id) else { continue }
                var mbox: [UInt8] = []
                MBox.append(raw, sender: m.sender, date: m.receivedAt, to: &mbox)
                try file.write(contentsOf: mbox)
                written += 1
            }
        } catch {
            try? file.close()  // the write error above is the one reported
            throw AdminError("writing \(out): \(error)")
        }
        do { try file.close() } catch { throw AdminError("writing \(out): \(error)") }
        return written
    }

    /// Erases the messages; a held one refuses the whole request.
    public func delete(_ messages: [ArchivedMessage]) async throws -> Int {
        try await mapped { try await store.delete(ids: messages.map(\.id)) }
    }

    public func setHold(_ messages: [ArchivedMessage], held: Bool) async throws -> Int {
        try await mapped { try await store.setHold(ids: messages.map(\.id), held: held) }
    }

    public func rekey() async throws -> Int { try await mapped { try await store.rekey() } }

    public func stats() async throws -> [ArchiveStats] { try await mapped { try await store.stats() } }

    private func mapped<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let e as ArchiveError { throw AdminError(e.description) }
    }
}
