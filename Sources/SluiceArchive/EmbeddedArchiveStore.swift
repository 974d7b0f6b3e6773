// EmbeddedArchiveStore: the embedded ArchiveStore: the SQLite archive in the
// data directory (SQLiteArchiveStore), opened the first time a message is
// added (so that a configuration without archives makes no file, and
// archives added by a reload are delivered by the next message), with every
// call run on the database thread pool, never on the cooperative threads.
// Reads and purges of an archive that does not exist yet see it empty.

import Foundation
import NIOConcurrencyHelpers
import NIOPosix

public final class EmbeddedArchiveStore: ArchiveStore {
    let path: String
    let keyFile: String?
    let io: NIOThreadPool
    private let box = NIOLockedValueBox<SQLiteArchiveStore?>(nil)

    /// `keyFile`: archive_encryption's key file (nil: messages stored unsealed).
    public init(path: String, keyFile: String?, io: NIOThreadPool) {
        self.path = path
        self.keyFile = keyFile
        self.io = io
    }

    /// The store; nil when it does not exist and `create` is false.
    func open(create: Bool) throws -> SQLiteArchiveStore? {
        try box.withLockedValue { opened in
            if let opened { return opened }
            guard create || FileManager.default.fileExists(atPath: path) else { return nil }
            let keys = try keyFile.map { try ArchiveKeyRing.load(file: $0) }
            let store = try SQLiteArchiveStore(path: path, keys: keys)
            opened = store
            return store
        }
    }

    /// Runs `body` on the pool with the store; `absent` when there is no archive yet and `create` is false.
    func run<T: Sendable>(
        create: Bool = false, absent: T, _ body: @escaping @Sendable (SQLiteArchiveStore) throws -> T
    ) async throws -> T {
        try await io.runIfActive {
            guard let store = try self.open(create: create) else { return absent }
            return try body(store)
        }
    }

    public func add(_ entries: [ArchiveEntry]) async throws { try await run(create: true, absent: ()) { try $0.add(entries) } }
    public func search(_ query: ArchiveQuery) async throws -> [ArchivedMessage] { try await run(absent: []) { try $0.search(query) } }
    public func count(_ query: ArchiveQuery) async throws -> Int { try await run(absent: 0) { try $0.count(query) } }
    public func message(id: Int64) async throws -> ArchivedMessage? { try await run(absent: nil) { try $0.message(id: id) } }
    public func raw(id: Int64) async throws -> [UInt8]? { try await run(absent: nil) { try $0.raw(id: id) } }

    public func purge(before cutoffs: [String: Date], batch: Int) async throws -> Int {
        try await run(absent: 0) { try $0.purge(before: cutoffs, batch: batch) }
    }

    public func delete(ids: [Int64]) async throws -> Int { try await run(absent: 0) { try $0.delete(ids: ids) } }
    public func setHold(ids: [Int64], held: Bool) async throws -> Int { try await run(absent: 0) { try $0.setHold(ids: ids, held: held) } }
    public func rekey() async throws -> Int { try await run(absent: 0) { try $0.rekey() } }
    public func stats() async throws -> [ArchiveStats] { try await run(absent: []) { try $0.stats() } }
}

extension EmbeddedArchiveStore: ArchiveCopySource {
    public func export(after: Int64, limit: Int) async throws -> [(id: Int64, entry: ArchiveEntry)] {
        try await run(absent: []) { try $0.export(after: after, limit: limit) }
    }
}
