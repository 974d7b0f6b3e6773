// QueueListingRecord: a QueueListing as bytes in a queue file. Framed so that a
// reader can find it from either end and tell it from message bytes:
//
//   "SLQL1" <8 decimal digits: payload length N> <payload: N bytes> <the same 8 digits> "\n"
//
// A state file starts with the record and the entry's JSON follows; a queue
// file's end record has it between the message and the JSON (the footer's
// offset points at the JSON, so a reader that does not know the record skips
// it). The payload is little-endian integers and length-prefixed UTF-8 strings.
// Files written before the record existed have none: readers decode the JSON.
// Pure.

import Foundation
import SluiceCore

enum QueueListingRecord {
    static let magic = Array("SLQL1".utf8)
    static let digits = 8
    /// Bytes around the payload.
    static let overhead = magic.count + 2 * digits + 1

    static func encode(_ l: QueueListing) -> [UInt8] {
        var w = ByteWriter()
        w.string(l.id.rawValue)
        w.int(l.size)
        w.int(Int(l.queuedAt.timeIntervalSince1970 * 1000))
        w.int(Int(l.nextAttempt.timeIntervalSince1970 * 1000))
        w.byte(l.held ? 1 : 0)
        w.optionalString(l.sender)
        w.strings(l.recipients)
        w.int(l.routes.count)
        for r in l.routes {
            w.string(r.target)
            w.string(r.status.rawValue)
            w.int(r.attempts)
            w.byte(r.held ? 1 : 0)
            w.optionalString(r.lastError)
            w.strings(r.recipients)
        }
        let length = Array(String(format: "%08d", w.bytes.count).utf8)
        return magic + length + w.bytes + length + [10]
    }

    /// The listing in `bytes[range]` where the range is exactly one record; nil when it is not one.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> QueueListing? {
        guard bytes.count >= overhead, bytes.starts(with: magic), bytes.last == 10,
            let n = number(bytes, at: magic.count), n == bytes.count - overhead,
            number(bytes, at: bytes.count - 1 - digits) == n
        else { return nil }
        var r = ByteReader(bytes, from: magic.count + digits, to: magic.count + digits + n)
        guard let idText = r.string(), let id = QueueID(idText), let size = r.int(), let queued = r.int(), let next = r.int(),
            let held = r.byte(), let sender = r.optionalString(), let recipients = r.strings(), let count = r.int(), count >= 0, count < 1 << 20
        else { return nil }
        var routes: [QueueListing.RouteLine] = []
        for _ in 0..<count {
            guard let target = r.string(), let statusText = r.string(), let status = RouteState.Status(rawValue: statusText),
                let attempts = r.int(), let routeHeld = r.byte(), let lastError = r.optionalString(), let rcpts = r.strings()
            else { return nil }
            routes.append(.init(target: target, status: status, attempts: attempts, held: routeHeld == 1, lastError: lastError, recipients: rcpts))
        }
        guard r.atEnd else { return nil }
        return QueueListing(
            id: id, size: size, queuedAt: Date(timeIntervalSince1970: Double(queued) / 1000),
            nextAttempt: Date(timeIntervalSince1970: Double(next) / 1000), held: held == 1, sender: sender, recipients: recipients,
            routes: routes)
    }

    /// The payload length in the 8 digits at `offset`, or nil.
    static func number(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard offset >= 0, offset + digits <= bytes.count else { return nil }
        var n = 0
        for i in offset..<(offset + digits) {
            let b = bytes[i]
            guard b >= 48, b <= 57 else { return nil }
            n = n * 10 + Int(b - 48)
        }
        return n
    }
}

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }

    mutating func int(_ v: Int) {
        withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ s: String) {
        int(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    mutating func optionalString(_ s: String?) {
        if let s {
            byte(1)
            string(s)
        } else {
            byte(0)
        }
    }

    mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }
}

/// Reads what ByteWriter wrote; every read is bounds-checked and returns nil past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        self.bytes = bytes
        position = start
        self.end = end
    }

    var atEnd: Bool { position == end }

    mutating func byte() -> UInt8? {
        guard position < end else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func int() -> Int? {
        guard end - position >= 8 else { return nil }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return Int(Int64(bitPattern: v))
    }

    mutating func string() -> String? {
        guard let n = int(), n >= 0, n <= end - position else { return nil }
        defer { position += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
    }

    mutating func optionalString() -> String?? {
        guard let flag = byte() else { return nil }
        if flag == 0 { return .some(nil) }
        guard flag == 1, let s = string() else { return nil }
        return .some(s)
    }

    mutating func strings() -> [String]? {
        guard let n = int(), n >= 0, n <= end - position else { return nil }
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            guard let s = string() else { return nil }
            out.append(s)
        }
        return out
    }
}
