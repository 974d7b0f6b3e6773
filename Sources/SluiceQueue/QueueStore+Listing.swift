// Reading the queue for listings: each message's QueueListing from the listing
// record of its state file or of its queue file's end record — a few hundred
// bytes read with pread, no JSON decoded. Files written before the record
// existed are decoded in full, as before.

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

extension QueueStore {
    /// The JSON of a state file: what follows its listing record (the whole file in earlier versions).
    static func stateJSON(_ data: Data) -> Data {
        data.withUnsafeBytes { raw -> Data in
            guard raw.starts(with: QueueListingRecord.magic),
                let n = QueueListingRecord.number(raw, at: QueueListingRecord.magic.count),
                n + QueueListingRecord.overhead <= raw.count
            else { return data }
            return data.subdata(in: (data.startIndex + n + QueueListingRecord.overhead)..<data.endIndex)
        }
    }

    /// What a listing shows of a queued message; nil if it is not queued (any more).
    public func listing(_ id: QueueID) throws -> QueueListing? {
        // A state file, when there is one, is the current state.
        if let stateFD = try FileSystem.openForReading(statePath(for: id)) {
            defer { close(stateFD) }
            let bytes = try Self.readAll(stateFD, path: statePath(for: id))
            if let listing = bytes.withUnsafeBytes({ raw in Self.leadingRecord(raw) }) { return listing }
            return try load(id).map(QueueListing.init)
        }
        let path = messagePath(for: id)
        guard let fd = try FileSystem.openForReading(path) else { return nil }
        defer { close(fd) }
        if let listing = try Self.trailingRecord(fd, path: path) { return listing }
        return QueueListing(try readEndRecord(path))
    }

    /// Every committed message's listing, oldest first, a chunk at a time, each chunk read on `threads` threads.
    public func forEachListingChunk(
        threads: Int, chunkSize: Int = 4096, _ body: ([(id: QueueID, listing: Result<QueueListing, any Error>)]) throws -> Void
    ) throws {
        try forEachChunk(threads: threads, chunkSize: chunkSize, read: { id in Self.result { try self.listing(id) } }) {
            try body($0.map { (id: $0.0, listing: $0.1) })
        }
    }

    /// The record a state file starts with.
    static func leadingRecord(_ raw: UnsafeRawBufferPointer) -> QueueListing? {
        guard raw.starts(with: QueueListingRecord.magic), let n = QueueListingRecord.number(raw, at: QueueListingRecord.magic.count),
            n + QueueListingRecord.overhead <= raw.count
        else { return nil }
        return QueueListingRecord.decode(UnsafeRawBufferPointer(rebasing: raw[0..<(n + QueueListingRecord.overhead)]))
    }

    /// The record just before the JSON of a queue file's end record: the footer gives the JSON's offset, the
    /// record ends there with its length. nil for a file of an earlier version (no record).
    static func trailingRecord(_ fd: Int32, path: String) throws -> QueueListing? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileSystemError(operation: "stat", path: path, code: errno) }
        let end = Int(st.st_size)
        guard end >= footerLength else { throw QueueCorruption(path: path, why: "no end record") }
        var footer = [UInt8](repeating: 0, count: footerLength)
        guard try pread(fd, &footer, at: end - footerLength, path: path) == footerLength,
            footer.suffix(magic.utf8.count).elementsEqual(magic.utf8),
            let jsonStart = Int(String(decoding: footer.prefix(20), as: UTF8.self)), jsonStart < end - footerLength
        else { throw QueueCorruption(path: path, why: "no end record") }
        // Most records are a few hundred bytes: one read from well before the JSON usually holds the whole one.
        let guess = min(jsonStart, 2048)
        var tail = [UInt8](repeating: 0, count: guess)
        guard try pread(fd, &tail, at: jsonStart - guess, path: path) == guess else { return nil }
        let digits = QueueListingRecord.digits
        guard guess >= digits + 1, tail[guess - 1] == 10,
            let n = tail.withUnsafeBytes({ QueueListingRecord.number($0, at: guess - 1 - digits) })
        else { return nil }
        let size = n + QueueListingRecord.overhead
        guard size <= jsonStart else { return nil }
        if size <= guess {
            return tail.withUnsafeBytes { QueueListingRecord.decode(UnsafeRawBufferPointer(rebasing: $0[(guess - size)...])) }
        }
        var record = [UInt8](repeating: 0, count: size)
        guard try pread(fd, &record, at: jsonStart - size, path: path) == size else { return nil }
        return record.withUnsafeBytes { QueueListingRecord.decode($0) }
    }

    static func pread(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int, path: String) throws -> Int {
        let count = buffer.count
        let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
        guard n >= 0 else { throw FileSystemError(operation: "read", path: path, code: errno) }
        return n
    }

    static func readAll(_ fd: Int32, path: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", path: path, code: errno)
            }
            if n == 0 { return out }
            out += buffer[0..<n]
        }
    }
}
