// ZipReader: the entries of a zip archive for scanning (R-DLP-1): the central
// directory is read from the end (so data descriptors do not matter), stored
// and deflated entries are unpacked with zlib, and every entry is bounded in
// size and in expansion ratio. An archive that would expand past the limits
// is reported as a zip bomb instead of being unpacked. Encrypted and zip64
// entries are listed but not opened.

import CZlib

public struct ZipLimits: Sendable {
    public var maxEntries = 1000
    /// Bytes unpacked from one archive at most.
    public var maxTotal = 50 << 20
    /// Expansion past this ratio (uncompressed / compressed) for an entry over 1 MB is a bomb.
    public var maxRatio = 100

    public init() {}
}

public enum ZipEntryResult: Sendable {
    case file(name: String, data: [UInt8])
    case skipped(name: String, why: String)
    case bomb(name: String, detail: String)
}

public enum ZipReader {
    public static func isZip(_ bytes: [UInt8]) -> Bool { bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4b && bytes[2] == 3 && bytes[3] == 4 }

    public static func entries(_ zip: [UInt8], limits: ZipLimits = ZipLimits()) -> [ZipEntryResult] {
        guard let eocd = findEOCD(zip) else { return [.skipped(name: "", why: "no central directory (truncated or not a zip)")] }
        let count = Int(u16(zip, eocd + 10))
        var offset = Int(u32(zip, eocd + 16))
        var results: [ZipEntryResult] = []
        var total = 0
        for _ in 0..<min(count, limits.maxEntries) {
            guard offset + 46 <= zip.count, u32(zip, offset) == 0x0201_4b50 else { break }
            let flags = u16(zip, offset + 8)
            let method = u16(zip, offset + 10)
            let compressed = Int(u32(zip, offset + 20))
            let size = Int(u32(zip, offset + 24))
            let nameLength = Int(u16(zip, offset + 28))
            let extraLength = Int(u16(zip, offset + 30))
            let commentLength = Int(u16(zip, offset + 32))
            let local = Int(u32(zip, offset + 42))
            guard offset + 46 + nameLength <= zip.count else { break }
            let name = String(decoding: zip[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            offset += 46 + nameLength + extraLength + commentLength
            if name.hasSuffix("/") { continue }  // a directory
            if flags & 1 != 0 {
                results.append(.skipped(name: name, why: "encrypted"))
                continue
            }
            if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF {
                results.append(.skipped(name: name, why: "zip64 entry"))
                continue
            }
            if size > 1 << 20 && compressed > 0 && size / max(1, compressed) > limits.maxRatio || total + size > limits.maxTotal {
                results.append(.bomb(name: name, detail: "\(compressed) bytes claim to expand to \(size)"))
                continue
            }
            guard local + 30 <= zip.count, u32(zip, local) == 0x0403_4b50 else {
                results.append(.skipped(name: name, why: "bad local header"))
                continue
            }
            let dataStart = local + 30 + Int(u16(zip, local + 26)) + Int(u16(zip, local + 28))
            guard dataStart + compressed <= zip.count else {
                results.append(.skipped(name: name, why: "truncated"))
                continue
            }
            let data = zip[dataStart..<(dataStart + compressed)]
            switch method {
            case 0:
                total += data.count
                results.append(.file(name: name, data: Array(data)))
            case 8:
                // The declared size may lie: inflate stops at the remaining budget and reports a bomb past it.
                let budget = min(limits.maxTotal - total, max(size, 1) + 1)
                switch inflate(data, limit: budget) {
                case .some(let out) where out.count <= size || size == 0 && out.count < budget:
                    total += out.count
                    results.append(.file(name: name, data: out))
                case .some(let out):
                    results.append(.bomb(name: name, detail: "expands past its declared \(size) bytes (\(out.count)+)"))
                case .none:
                    results.append(.skipped(name: name, why: "corrupt deflate data"))
                }
            default:
                results.append(.skipped(name: name, why: "compression method \(method)"))
            }
        }
        return results
    }

    /// Raw deflate, stopping at `limit` output bytes.
    static func inflate(_ input: ArraySlice<UInt8>, limit: Int) -> [UInt8]? {
        var stream = z_stream()
        guard sluice_inflate_init_raw(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = Array(input)
        var status: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    out += outBuf[0..<(outBuf.count - Int(stream.avail_out))]
                }
            } while status == Z_OK && out.count < limit && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return nil }
        return out
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

    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { i + 1 < b.count ? UInt16(b[i]) | UInt16(b[i + 1]) << 8 : 0 }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        i + 3 < b.count ? UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 : 0
    }
}
