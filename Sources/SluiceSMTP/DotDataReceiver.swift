// DotDataReceiver: the DATA phase of RFC 5321 §4.5.2. Removes dot-stuffing and
// finds the end of data. The end is only CRLF "." CRLF (the data start counts
// as a line start); bare LF, bare CR, LF.LF and CR.CR never end the data, so
// SMTP smuggling (CVE-2023-51764 and kin) cannot split one message into two.
// State survives chunk boundaries.

import NIOCore

public struct DotDataReceiver: Sendable {
    enum State: Sendable {
        case lineStart  // after CRLF (or at the start of data)
        case inLine
        case afterCR  // in a line, last byte was CR
        case dot  // a "." at line start, held
        case dotCR  // ".", CR at line start, both held
    }

    private var state: State = .lineStart

    public init() {}

    /// Consumes up to `limit` bytes of `input`, appending the unstuffed content
    /// to `output`. Returns true when the end-of-data marker has been consumed.
    public mutating func consume(_ input: inout ByteBuffer, into output: inout ByteBuffer, limit: Int = 256 * 1024) -> Bool {
        let available = min(input.readableBytes, limit)
        guard available > 0 else { return false }
        var consumed = 0
        var ended = false
        input.withUnsafeReadableBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<available])
            var runStart = 0
            var i = 0
            @inline(__always) func flush(_ upTo: Int) {
                if upTo > runStart { output.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<upTo])) }
            }
            while i < available {
                let b = bytes[i]
                switch state {
                case .inLine:
                    // Fast path: skip to the next CR.
                    var j = i
                    while j < available && bytes[j] != 13 { j += 1 }
                    if j < available {
                        state = .afterCR
                        i = j + 1
                    } else {
                        i = j
                    }
                case .afterCR:
                    if b == 10 {
                        state = .lineStart
                    } else if b != 13 {
                        state = .inLine
                    }
                    i += 1
                case .lineStart:
                    if b == UInt8(ascii: ".") {
                        flush(i)
                        state = .dot
                        i += 1
                        runStart = i
                    } else {
                        state = .inLine
                    }
                case .dot:
                    if b == 13 {
                        state = .dotCR
                        i += 1
                        runStart = i
                    } else {
                        // Stuffed dot: dropped; this byte starts the line's content.
                        state = .inLine
                    }
                case .dotCR:
                    if b == 10 {
                        ended = true
                        i += 1
                        runStart = i
                    } else {
                        // ".\r" then something else: drop the dot, keep the CR.
                        output.writeInteger(UInt8(13))
                        state = .afterCR
                    }
                }
                if ended { break }
            }
            flush(i)
            consumed = i
        }
        input.moveReaderIndex(forwardBy: consumed)
        if ended { state = .lineStart }
        return ended
    }
}
