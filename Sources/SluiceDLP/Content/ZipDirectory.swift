// ZipDirectory: the entries of a zip archive (APPNOTE 6.3), read from the
// central directory at the end (so data descriptors do not matter), and each
// entry's packed bytes found through its local header; zip64 sizes and
// offsets (archives or members past 4 GiB) are read from their records.
// Opening them is the document extractor's business (streamed through the
// Inflater, bounded).

struct ZipEntry: Sendable, Equatable {
    var name: String
    var flags: UInt16
    var method: UInt16
    var packedSize: Int
    var size: Int
    var localOffset: Int

    var isDirectory: Bool { name.hasSuffix("/") }
    /// Traditional PKWARE or strong encryption (general purpose bit 0).
    var isEncrypted: Bool { flags & 1 != 0 }
    /// A size or offset still at its 32-bit marker: zip64 without the extra field that gives the value.
    var isZip64: Bool { packedSize == 0xFFFF_FFFF || size == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF }
}

enum ZipDirectory {
    static func isZip(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: [0x50, 0x4b, 3, 4]) || bytes.starts(with: [0x50, 0x4b, 5, 6]) }

    enum Failure: Error, Equatable {
        case noDirectory
        case zip64
    }

    /// The entries the central directory lists (directories left out), at most `limit`.
    static func entries(_ zip: [UInt8], limit: Int) throws(Failure) -> [ZipEntry] {
        guard let eocd = findEOCD(zip) else { throw .noDirectory }
        var count = Int(u16(zip, eocd + 10))
        var offset = Int(u32(zip, eocd + 16))
        if count == 0xFFFF || offset == 0xFFFF_FFFF {
            // Zip64: the end record's locator (20 bytes before it) points at the zip64 end record.
            let locator = eocd - 20
            guard locator >= 0, u32(zip, locator) == 0x0706_4b50 else { throw .zip64 }
            let record = big(u64(zip, locator + 8))
            guard record + 56 <= zip.count, u32(zip, record) == 0x0606_4b50 else { throw .zip64 }
            count = big(u64(zip, record + 32))
            offset = big(u64(zip, record + 48))
        }
        var out: [ZipEntry] = []
        for _ in 0..<min(count, limit) {
            guard offset + 46 <= zip.count, u32(zip, offset) == 0x0201_4b50 else { throw .noDirectory }
            let nameLength = Int(u16(zip, offset + 28))
            guard offset + 46 + nameLength <= zip.count else { throw .noDirectory }
            var entry = ZipEntry(
                name: String(decoding: zip[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self),
                flags: u16(zip, offset + 8), method: u16(zip, offset + 10),
                packedSize: Int(u32(zip, offset + 20)), size: Int(u32(zip, offset + 24)), localOffset: Int(u32(zip, offset + 42)))
            let extraLength = Int(u16(zip, offset + 30))
            readZip64Extra(zip, from: offset + 46 + nameLength, length: extraLength, into: &entry)
            offset += 46 + nameLength + extraLength + Int(u16(zip, offset + 32))
            if !entry.isDirectory { out.append(entry) }
        }
        return out
    }

    /// The entry's packed bytes, or nil when its local header is missing or the data runs past the end.
    static func packedData(_ entry: ZipEntry, in zip: [UInt8]) -> ArraySlice<UInt8>? {
        let local = entry.localOffset
        guard local + 30 <= zip.count, u32(zip, local) == 0x0403_4b50 else { return nil }
        let start = local + 30 + Int(u16(zip, local + 26)) + Int(u16(zip, local + 28))
        guard start + entry.packedSize <= zip.count else { return nil }
        return zip[start..<(start + entry.packedSize)]
    }

    /// The zip64 extended information (extra field 0x0001): 64-bit values for the fields at their marker,
    /// in the order size, packed size, local header offset (APPNOTE 4.5.3).
    static func readZip64Extra(_ zip: [UInt8], from start: Int, length: Int, into entry: inout ZipEntry) {
        var i = start
        let end = min(zip.count, start + length)
        while i + 4 <= end {
            let id = u16(zip, i)
            let size = Int(u16(zip, i + 2))
            if id == 1 {
                var field = i + 4
                let fieldEnd = min(end, field + size)
                if entry.size == 0xFFFF_FFFF, field + 8 <= fieldEnd { entry.size = big(u64(zip, field)); field += 8 }
                if entry.packedSize == 0xFFFF_FFFF, field + 8 <= fieldEnd { entry.packedSize = big(u64(zip, field)); field += 8 }
                if entry.localOffset == 0xFFFF_FFFF, field + 8 <= fieldEnd { entry.localOffset = big(u64(zip, field)) }
                return
            }
            i += 4 + size
        }
    }

    static func findEOCD(_ b: [UInt8]) -> Int? {
        guard b.count >= 22 else { return nil }
        var i = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while i >= lowest {
            if b[i] == 0x50, b[i + 1] == 0x4b, b[i + 2] == 5, b[i + 3] == 6 { return i }
            i -= 1
        }
        return nil
    }

    /// A 64-bit size or offset as an Int small enough that adding to it cannot overflow (256 TiB at most).
    static func big(_ v: UInt64) -> Int { Int(min(v, 1 << 48)) }
    static func u64(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32 }
    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { i >= 0 && i + 1 < b.count ? UInt16(b[i]) | UInt16(b[i + 1]) << 8 : 0 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        i >= 0 && i + 3 < b.count ? UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 : 0
    }
}
