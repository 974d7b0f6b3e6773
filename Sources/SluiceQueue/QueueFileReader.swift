// Reading parts of a queued message file for the transform stage: the header
// section, and the rest in chunks (for signing). Blocking file I/O: callers
// run it on the file I/O thread pool.

import Foundation
import SluiceCore

public enum QueueFileReader {
    /// The header section (through the empty line) from the start of a queue file, at most `limit` bytes.
    public static func headerSection(_ path: String, length: Int, limit: Int = 1 << 20) throws -> [UInt8] {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw SMTPError(451, .init(4, 3, 0), "Queue file missing", reason: "cannot open \(path)")
        }
        defer { try? input.close() }
        let bytes = [UInt8](try input.read(upToCount: min(length, limit)) ?? Data())
        var i = 0
        while i + 3 < bytes.count {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return Array(bytes[..<(i + 4)]) }
            i += 1
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
