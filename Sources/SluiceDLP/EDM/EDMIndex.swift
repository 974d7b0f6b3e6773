// EDMIndex: one EDM source's index file (DATA_DIR/edm/NAME.idx): which
// columns it holds and of what kind, then an entry per value — its keyed
// hash (64 bits), its record and its column — sorted by hash, 16 bytes each
// (a million records of three columns: 48 MB). No value is stored in clear.
//
//   "SLEDM1\n\0" · header length (UInt32 LE) · header (JSON) · entries
//   entry: hash UInt64 LE · record UInt32 LE · column UInt16 LE · 0 UInt16

import Foundation

public struct EDMIndex: Sendable {
    public struct Column: Sendable, Codable, Equatable {
        public var name: String
        public var kind: EDMKind
        /// For numbers: the fewest and most digits of its values (only candidates in between are hashed).
        public var minDigits: Int
        public var maxDigits: Int
    }

    public struct Header: Sendable, Codable, Equatable {
        public var name: String
        public var columns: [Column]
        public var records: Int
        public var entries: Int
        /// EDMKey.check of the key it was made with, in hex.
        public var keyCheck: String
        public var importedAt: String
    }

    struct Entry: Sendable, Equatable {
        var hash: UInt64
        var record: UInt32
        var column: UInt16
    }

    public let header: Header
    let entries: [Entry]

    static let magic: [UInt8] = Array("SLEDM1\n\0".utf8)

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    init(header: Header, entries: [Entry]) {
        self.header = header
        self.entries = entries.sorted { $0.hash < $1.hash }
    }

    /// Every (record, column) whose value has this hash.
    func lookup(_ hash: UInt64) -> ArraySlice<Entry> {
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].hash < hash { lo = mid + 1 } else { hi = mid }
        }
        var end = lo
        while end < entries.count, entries[end].hash == hash { end += 1 }
        return entries[lo..<end]
    }

    /// The file's bytes.
    func encoded() throws -> [UInt8] {
        let json = [UInt8](try JSONEncoder().encode(header))
        var out = Self.magic
        out.reserveCapacity(out.count + 4 + json.count + entries.count * 16)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out += $0 }
        out += json
        for e in entries {
            withUnsafeBytes(of: e.hash.littleEndian) { out += $0 }
            withUnsafeBytes(of: e.record.littleEndian) { out += $0 }
            withUnsafeBytes(of: e.column.littleEndian) { out += $0 }
            out += [0, 0]
        }
        return out
    }

    /// Reads an index file and checks it was made with `key`.
    public static func load(file: String, key: EDMKey) throws(Invalid) -> EDMIndex {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Invalid(description: "\(file): no EDM index (run `sluice dlp edm import NAME`)")
        }
        let index = try decode([UInt8](data), file: file)
        guard index.header.keyCheck == String(key.check, radix: 16) else {
            throw Invalid(description: "\(file): made with another key than key_file's; run `sluice dlp edm import \(index.header.name)` again")
        }
        return index
    }

    static func decode(_ bytes: [UInt8], file: String) throws(Invalid) -> EDMIndex {
        let bad = Invalid(description: "\(file): not an EDM index, or damaged (run `sluice dlp edm import NAME` again)")
        guard bytes.count >= 12, bytes.starts(with: magic) else { throw bad }
        // Any header that does not decode is the same answer: damaged, import again.
        let length = Int(bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) })
        guard 12 + length <= bytes.count, let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[12..<(12 + length)])),
            bytes.count - 12 - length == header.entries * 16
        else { throw bad }
        var entries: [Entry] = []
        entries.reserveCapacity(header.entries)
        bytes.withUnsafeBytes { raw in
            var at = 12 + length
            for _ in 0..<header.entries {
                entries.append(
                    Entry(
                        hash: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
                        record: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self)),
                        column: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at + 12, as: UInt16.self))))
                at += 16
            }
        }
        guard entries.allSatisfy({ Int($0.column) < header.columns.count }) else { throw bad }
        return EDMIndex(header: header, entries: entries)
    }
}
