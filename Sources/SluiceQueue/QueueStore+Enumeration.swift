// Reading the whole queue: every committed id (oldest first), and every
// entry a chunk at a time on several threads, for listings, the daemon's
// background index and the census. A directory that cannot be read is an
// error, never an empty queue.

import Foundation
import SluiceCore

extension QueueStore {
    /// Ids of every committed message, oldest first. A queue directory that cannot be read is an error (never an
    /// empty queue).
    public func ids() throws -> [QueueID] {
        try Self.names(in: activeDir).compactMap(QueueID.init).sorted()
    }

    /// The names in a directory of the queue; one that does not exist (yet) is empty, one that cannot be read is an error.
    static func names(in directory: String, missingIsEmpty: Bool = false) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch let e as NSError where missingIsEmpty && (e.code == NSFileReadNoSuchFileError || e.code == NSFileNoSuchFileError) {
            return []
        } catch {
            throw QueueCorruption(path: directory, why: "cannot read the queue directory: \(error.localizedDescription)")
        }
    }

    /// Every committed entry, oldest first; unreadable ones are reported, not skipped silently. Read on
    /// `threads` threads at once (a listing of 100,000 messages is file reads and JSON decoding).
    public func entries(threads: Int = 1) throws -> [(id: QueueID, entry: Result<QueueEntry, any Error>)] {
        var all: [(id: QueueID, entry: Result<QueueEntry, any Error>)] = []
        try forEachChunk(threads: threads) { all += $0 }
        return all
    }

    /// The entries, oldest first, a chunk at a time (each chunk read on `threads` threads), so that a
    /// listing can print its first lines before the last files are read.
    public func forEachChunk(
        threads: Int, chunkSize: Int = 4096, _ body: ([(id: QueueID, entry: Result<QueueEntry, any Error>)]) throws -> Void
    ) throws {
        try forEachChunk(threads: threads, chunkSize: chunkSize, read: { id in Self.result { try self.load(id) } }) {
            try body($0.map { (id: $0.0, entry: $0.1) })
        }
    }

    /// nil for nil, else the value or the error.
    static func result<T>(_ read: () throws -> T?) -> Result<T, any Error>? {
        do { return try read().map { .success($0) } } catch { return .failure(error) }
    }

    /// Every committed message read with `read`, oldest first, a chunk at a time, each chunk on `threads`
    /// threads; messages gone meanwhile (nil) are left out.
    func forEachChunk<T: Sendable>(
        threads: Int, chunkSize: Int, read: @Sendable (QueueID) -> Result<T, any Error>?, _ body: ([(QueueID, Result<T, any Error>)]) throws -> Void
    ) throws {
        let ids = try ids()
        for start in stride(from: 0, to: ids.count, by: chunkSize) {
            let chunk = Array(ids[start..<min(ids.count, start + chunkSize)])
            let results = Slots<Result<T, any Error>>(count: chunk.count)
            let parts = max(1, min(threads, chunk.count / 64))
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                for i in stride(from: part, to: chunk.count, by: parts) {
                    results.set(i, read(chunk[i]))
                }
            }
            try body(zip(chunk, results.values).compactMap { id, result in result.map { (id, $0) } })
        }
    }
}

/// Results written by index from several threads (each index by one thread), read after they finish.
final class Slots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ value: Value?) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }

    var values: [Value?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
