// DKIM canonicalization (RFC 6376 §3.4): the exact bytes a signature's
// hashes cover. Header fields one at a time ("simple": as they are;
// "relaxed": name lowercased, value unfolded with its whitespace runs made one
// space and trimmed), the body streamed in chunks of any size (trailing empty
// lines dropped; "relaxed" also folds whitespace runs and trims each line).
// Pure: no I/O, no crypto. Where RFC 6376 leaves a choice (which bytes count
// as whitespace in a header value), it does what libopendkim does, so that
// our signatures are the ones libopendkim would make (proved byte for byte by
// DKIMSignerParityTests).

public enum DKIMHeaderCanonicalizer {
    /// One header field (its name, colon, value and folding, without the final CRLF), canonicalized with the CRLF.
    public static func canonicalize(_ field: some Collection<UInt8>, _ canonicalization: DKIMCanonicalization, crlf: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(field.count + 2)
        switch canonicalization {
        case .simple:
            out.append(contentsOf: field)
        case .relaxed:
            var i = field.startIndex
            // The name: lowercased, without any whitespace, through the colon.
            while i != field.endIndex {
                let b = field[i]
                field.formIndex(after: &i)
                if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A { continue }
                out.append(b >= 0x41 && b <= 0x5A ? b + 32 : b)
                if b == 0x3A { break }
            }
            // The value: leading whitespace dropped, runs made one space, trailing dropped.
            var space = false
            var started = false
            while i != field.endIndex {
                let b = field[i]
                field.formIndex(after: &i)
                if b == 0 { break }
                if isHeaderSpace(b) {
                    space = started
                    continue
                }
                if space { out.append(0x20) }
                space = false
                started = true
                out.append(b)
            }
        }
        if crlf { out += [13, 10] }
        return out
    }

    /// Whitespace in a header value: SP, HTAB and the CR and LF of folding (also VT and FF, as C's isspace).
    @inline(__always) static func isHeaderSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
}

/// The body canonicalization, fed in chunks; `emit` receives canonical bytes in order. One pass over the
/// bytes with no line buffer: runs of ordinary bytes are copied whole, whitespace runs are remembered as one
/// pending space (relaxed), and empty lines are counted and written only when a non-empty line follows.
public struct DKIMBodyCanonicalizer {
    public let canonicalization: DKIMCanonicalization
    /// Empty lines seen and not yet written.
    private var blankLines = 0
    /// The current line has content (relaxed: a byte other than SP and HTAB; simple: any byte).
    private var lineHasContent = false
    /// Relaxed: SP or HTAB seen since the line's last content byte.
    private var pendingSpace = false
    /// The last byte was a CR (it ends the line if LF follows, else it is content).
    private var sawCR = false
    /// Bytes written so far.
    public private(set) var written = 0

    public init(_ canonicalization: DKIMCanonicalization) {
        self.canonicalization = canonicalization
    }

    public mutating func update(_ chunk: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard !chunk.isEmpty else { return }
        // Output never exceeds the input plus the blank lines held back and a CR held from the last chunk.
        let capacity = chunk.count + 2 * blankLines + 8
        let count = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { out -> Int in
            var o = 0
            let relaxed = canonicalization == .relaxed
            let n = chunk.count
            var i = 0
            while i < n {
                let b = chunk[i]
                if sawCR {
                    sawCR = false
                    if b == 0x0A {
                        endLine(out, &o)
                        i += 1
                        continue
                    }
                    startContent(out, &o)
                    out[o] = 0x0D  // a CR not followed by LF is content
                    o += 1
                }
                if b == 0x0D {
                    sawCR = true
                    i += 1
                    continue
                }
                if b == 0x0A {
                    endLine(out, &o)
                    i += 1
                    continue
                }
                if relaxed && (b == 0x20 || b == 0x09) {
                    pendingSpace = true
                    i += 1
                    continue
                }
                // A run of ordinary bytes, copied as it is.
                startContent(out, &o)
                while i < n {
                    let c = chunk[i]
                    if c == 0x0D || c == 0x0A || (relaxed && (c == 0x20 || c == 0x09)) { break }
                    out[o] = c
                    o += 1
                    i += 1
                }
            }
            emit(UnsafeRawBufferPointer(start: out.baseAddress, count: o))
            return o
        }
        written += count
    }

    /// Ends the body: a last line without CRLF gets one; "simple" makes an empty body one CRLF.
    public mutating func finish(emit: (UnsafeRawBufferPointer) -> Void) {
        let empty = written == 0 && !sawCR && !lineHasContent
        let count = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * blankLines + 8) { out -> Int in
            var o = 0
            if sawCR {
                sawCR = false
                startContent(out, &o)
                out[o] = 0x0D
                o += 1
            }
            if lineHasContent { endLine(out, &o) }
            if canonicalization == .simple && empty {
                out[o] = 13
                out[o + 1] = 10
                o += 2
            }
            emit(UnsafeRawBufferPointer(start: out.baseAddress, count: o))
            return o
        }
        written += count
    }

    /// Before a content byte: the empty lines held back (the line is not the last), then the pending space.
    @inline(__always)
    private mutating func startContent(_ out: UnsafeMutableBufferPointer<UInt8>, _ o: inout Int) {
        if !lineHasContent {
            for _ in 0..<blankLines {
                out[o] = 13
                out[o + 1] = 10
                o += 2
            }
            blankLines = 0
            lineHasContent = true
        }
        if pendingSpace {
            out[o] = 0x20
            o += 1
            pendingSpace = false
        }
    }

    @inline(__always)
    private mutating func endLine(_ out: UnsafeMutableBufferPointer<UInt8>, _ o: inout Int) {
        if lineHasContent {
            out[o] = 13
            out[o + 1] = 10
            o += 2
        } else {
            blankLines += 1
        }
        lineHasContent = false
        pendingSpace = false
    }
}
