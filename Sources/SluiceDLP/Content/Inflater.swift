// Inflater: zlib's inflate as a stream of 64 KiB pieces, for zip entries
// (raw deflate) and gzip files. The caller sees each piece as it comes and
// may stop at any time, so an entry that expands without end costs one piece
// of memory, never its expanded size.

import CZlib

enum InflateOutcome: Equatable {
    /// The stream ended where it should.
    case finished
    /// The consumer said stop (a limit), or the output budget ran out.
    case stopped
    /// The data is not valid deflate / gzip, or it ends early.
    case corrupt
}

enum Inflater {
    enum Format { case raw, gzip }

    /// Inflates `input`, handing every piece to `piece`; returning false from it stops the stream.
    static func inflate(_ input: ArraySlice<UInt8>, format: Format, piece: ([UInt8]) -> Bool) -> InflateOutcome {
        var stream = z_stream()
        let initStatus = format == .raw ? sluice_inflate_init_raw(&stream) : sluice_inflate_init_gzip(&stream)
        guard initStatus == Z_OK else { return .corrupt }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var stopped = false
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                if produced > 0, !piece(Array(chunk[0..<produced])) {
                    stopped = true
                    return
                }
                // A gzip file may hold several members one after the other (RFC 1952 §2.2).
                if status == Z_STREAM_END, format == .gzip, stream.avail_in > 0 {
                    guard inflateReset(&stream) == Z_OK else { return }
                    status = Z_OK
                }
            } while status == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        if stopped { return .stopped }
        return status == Z_STREAM_END ? .finished : .corrupt
    }
}
