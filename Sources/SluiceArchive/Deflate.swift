// Deflate: zlib for the archive's stored messages (ArchiveBody).

import CZlib

/// zlib deflate for the stored messages, at level 1: 1.6x the speed of level 6 for about 5% more bytes (the
/// archive write was a fifth of the full pipeline's CPU at 100 KiB, most of it in zlib).
enum Deflate {
    static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var size = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in input.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(i.count), 1) } }
        guard status == Z_OK else { throw ArchiveError("compression failed (zlib \(status))") }
        out.removeLast(out.count - Int(size))
        return out
    }

    static func decompress(_ input: [UInt8], size: Int) throws -> [UInt8] {
        var length = uLongf(size)
        var out = [UInt8](repeating: 0, count: max(1, size))
        let status = out.withUnsafeMutableBufferPointer { o in input.withUnsafeBufferPointer { i in uncompress(o.baseAddress, &length, i.baseAddress, uLong(i.count)) } }
        guard status == Z_OK, Int(length) == size else { throw ArchiveError("a stored message is damaged (zlib \(status))") }
        return size == 0 ? [] : out
    }
}
