// DotStuffer: message bytes as they go out in DATA (RFC 5321 §4.5.2): a "."
// at the start of a line is doubled, and the data ends with CRLF "." CRLF
// (adding a CRLF first if the message did not end with one). Streaming.

import NIOCore

public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var lastWasCR = false

    public init() {}

    public mutating func stuff(_ input: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(input.readableBytes + 16)
        input.withUnsafeReadableBytes { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                if atLineStart && b == UInt8(ascii: ".") {
                    out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
                    out.writeInteger(UInt8(ascii: "."))
                    runStart = i
                }
                atLineStart = lastWasCR && b == 10
                lastWasCR = b == 13
            }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
        }
        return out
    }

    /// The end of data: CRLF if needed, then ".\r\n".
    public mutating func finish() -> ByteBuffer {
        var out = ByteBuffer()
        if !atLineStart { out.writeString("\r\n") }
        out.writeString(".\r\n")
        atLineStart = true
        lastWasCR = false
        return out
    }
}
