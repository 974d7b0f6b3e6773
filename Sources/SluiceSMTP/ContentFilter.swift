// ContentFilter: looks at the message content as it streams to the spool
// (after DATA unstuffing, or BDAT chunks as they are): bare CR/LF (rejected or
// normalised to CRLF by policy), NUL bytes, the size limit, and the header
// section, collected within a bound for the end-of-data checks.

import NIOCore
import SluiceCore


public struct ContentFilter: Sendable {
    public let policy: BareLineEndingPolicy
    public let maxSize: Int
    public let maxHeaderBytes: Int

    public private(set) var size = 0
    public private(set) var sawBareLineEnding = false
    public private(set) var sawNUL = false
    public private(set) var exceededSize = false
    public private(set) var headerTooLarge = false

    private var lastWasCR = false
    private var headerBytes: [UInt8] = []
    private var headerDone = false
    /// Last bytes seen, to find CRLF CRLF across chunks.
    private var tail: UInt32 = 0x0D0A  // as if preceded by CRLF: an empty first line ends headers

    public init(policy: BareLineEndingPolicy, maxSize: Int, maxHeaderBytes: Int = 256 * 1024) {
        self.policy = policy
        self.maxSize = maxSize
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Filters one chunk; returns the bytes to spool (nil once the message is
    /// known to be refused, so nothing more is written).
    public mutating func process(_ chunk: ByteBuffer) -> ByteBuffer? {
        var out = chunk
        if policy == .normalize || !sawBareLineEnding {
            out = scanLineEndings(chunk)
        } else {
            scanNULOnly(chunk)
        }
        collectHeaders(out)
        size += out.readableBytes
        if size > maxSize { exceededSize = true }
        return isRefused ? nil : out
    }

    /// Call at end of content: a CR left dangling is a bare CR.
    public mutating func finish() -> ByteBuffer? {
        guard lastWasCR else { return nil }
        lastWasCR = false
        sawBareLineEnding = true
        guard policy == .normalize, !isRefused else { return nil }
        var lf = ByteBuffer()
        lf.writeInteger(UInt8(10))
        size += 1
        return lf
    }

    /// The first reason to refuse this message, if any.
    public var refusal: SMTPError? {
        if exceededSize { return SMTPError(552, .init(5, 3, 4), "Error: message size exceeds fixed limit") }
        if headerTooLarge { return SMTPError(552, .init(5, 3, 4), "Error: message header section too large") }
        if sawNUL { return SMTPError(554, .init(5, 6, 0), "Error: message contains NUL characters") }
        if sawBareLineEnding && policy == .reject {
            return SMTPError(554, .init(5, 6, 0), "Error: bare CR or LF received; lines must end with CRLF")
        }
        return nil
    }

    var isRefused: Bool { refusal != nil }

    public var headers: MessageHeaders { MessageHeaders(parsing: headerBytes) }

    private mutating func scanNULOnly(_ chunk: ByteBuffer) {
        if !sawNUL, chunk.readableBytesView.contains(0) { sawNUL = true }
    }

    private mutating func scanLineEndings(_ chunk: ByteBuffer) -> ByteBuffer {
        var rewritten: ByteBuffer?
        var cr = lastWasCR
        var sawBare = false
        var nul = false
        chunk.withUnsafeReadableBytes { bytes in
            var runStart = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                if b > 13 {
                    if cr { sawBare = true; if policy == .normalize { emitFix(i, insert: 10) } }
                    cr = false
                    continue
                }
                switch b {
                case 13:
                    if cr { sawBare = true; if policy == .normalize { emitFix(i, insert: 10) } }
                    cr = true
                case 10:
                    if !cr { sawBare = true; if policy == .normalize { emitFix(i, insert: 13) } }
                    cr = false
                case 0:
                    nul = true
                    cr = false
                default:
                    if cr { sawBare = true; if policy == .normalize { emitFix(i, insert: 10) } }
                    cr = false
                }
            }
            if rewritten != nil, runStart < bytes.count {
                rewritten!.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart...]))
            }
            // Copy bytes[runStart..<i] then the inserted byte; b at i stays for the next run.
            func emitFix(_ i: Int, insert: UInt8) {
                if rewritten == nil { rewritten = ByteBuffer(); rewritten!.reserveCapacity(bytes.count + 64) }
                rewritten!.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
                rewritten!.writeInteger(insert)
                runStart = i
            }
        }
        lastWasCR = cr
        if sawBare { sawBareLineEnding = true }
        if nul { sawNUL = true }
        return rewritten ?? chunk
    }

    private mutating func collectHeaders(_ chunk: ByteBuffer) {
        guard !headerDone else { return }
        let view = chunk.readableBytesView
        var index = view.startIndex
        while index < view.endIndex {
            let b = view[index]
            tail = (tail << 8) | UInt32(b)
            index = view.index(after: index)
            if tail == 0x0D0A_0D0A {
                headerDone = true
                break
            }
            if headerBytes.count < maxHeaderBytes {
                headerBytes.append(b)
            } else {
                headerTooLarge = true
                headerDone = true
                break
            }
        }
    }
}
