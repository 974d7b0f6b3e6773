// Reading parts of a queued message file for the transform stage: the header
// section, and the rest in chunks (for signing). Blocking file I/O: callers
// run it on the file I/O thread pool.

import Foundation
import NIOPosix
import SluiceCore

public enum QueueFileReader {
    /// The header section (through the empty line) from the start of a queue file, at most `limit` bytes;
    /// read 16 KiB at a time, so a large message costs no more than a small one.
    public static func headerSection(_ path: String, length: Int, limit: Int = 1 << 20) throws -> [UInt8] {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw SMTPError(451, .init(4, 3, 0), "Queue file missing", reason: "cannot open \(path)")
        }
        defer { try? input.close() }
        var bytes: [UInt8] = []
        let cap = min(length, limit)
        var searched = 0
        while bytes.count < cap, let data = try input.read(upToCount: min(16 * 1024, cap - bytes.count)), !data.isEmpty {
            bytes += data
            var i = max(0, searched - 3)
            while i + 3 < bytes.count {
                if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return Array(bytes[..<(i + 4)]) }
                i += 1
            }
            searched = bytes.count
        }
        return bytes  // no body: the whole message is header
    }

    /// Calls `body` with consecutive chunks of the file from `offset`, `length` bytes in all.
    public static func chunks(_ path: String, offset: Int, length: Int, _ body: ([UInt8]) throws -> Void) throws {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw SMTPError(451, .init(4, 3, 0), "Queue file missing", reason: "cannot open \(path)")
        }
        defer { try? input.close() }
        try input.seek(toOffset: UInt64(offset))
        var remaining = length
        while remaining > 0 {
            let chunk = try input.read(upToCount: min(1 << 20, remaining)) ?? Data()
            if chunk.isEmpty { throw SMTPError(451, .init(4, 3, 0), "Queue file truncated", reason: "\(path) shorter than \(length)") }
            try body([UInt8](chunk))
            remaining -= chunk.count
        }
    }
}

extension OutgoingMessage {
    /// The message's own header section, read from the queue file once and then kept as
    /// `rewrittenHeader` (with `bodyOffset` past it), so that every later modifier and the delivery
    /// reuse it instead of reading the file again. Blocking I/O runs on `io`.
    public mutating func headerSection(io: NIOThreadPool) async throws -> [UInt8] {
        if rewrittenHeader.isEmpty {
            let (path, length) = (bodyPath, bodyLength)
            rewrittenHeader = try await io.runIfActive { try QueueFileReader.headerSection(path, length: length) }
            bodyOffset = rewrittenHeader.count
        }
        return rewrittenHeader
    }
}
