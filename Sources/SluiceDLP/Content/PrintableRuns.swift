// PrintableRuns: the text inside a binary part, as `strings` finds it: runs
// of printable ASCII or well-formed UTF-8 at least `minimum` characters long,
// and runs of UTF-16LE (how Windows programs and legacy Office files store
// text). A key, a card number or a token pasted into a binary file is still
// a run of printable characters. One pass, one output buffer.

enum PrintableRuns {
    static func extract(_ bytes: ArraySlice<UInt8>, minimum: Int, into out: inout [UInt8]) {
        narrow(bytes, minimum: minimum, into: &out)
        wide(bytes, minimum: minimum, into: &out)
    }

    @inline(__always) static func isPrintable(_ b: UInt8) -> Bool { (b >= 32 && b < 127) || b == 9 }

    /// ASCII and UTF-8 runs.
    static func narrow(_ bytes: ArraySlice<UInt8>, minimum: Int, into out: inout [UInt8]) {
        var runStart = bytes.startIndex
        var chars = 0
        var i = bytes.startIndex
        func close(_ end: Int) {
            if chars >= minimum {
                out.append(contentsOf: bytes[runStart..<end])
                out.append(10)
            }
            chars = 0
        }
        while i < bytes.endIndex {
            let b = bytes[i]
            if isPrintable(b) {
                if chars == 0 { runStart = i }
                chars += 1
                i += 1
                continue
            }
            let length = utf8Length(bytes, at: i)
            if length > 1 {
                if chars == 0 { runStart = i }
                chars += 1
                i += length
                continue
            }
            close(i)
            i += 1
        }
        close(bytes.endIndex)
    }

    /// The length of a well-formed multi-byte UTF-8 sequence at `i`, or 0.
    static func utf8Length(_ bytes: ArraySlice<UInt8>, at i: Int) -> Int {
        let b = bytes[i]
        let length = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? (b < 0xf0 ? 3 : 0) : b >= 0xc2 ? 2 : 0
        guard length > 0, i + length <= bytes.endIndex else { return 0 }
        for k in 1..<length where bytes[i + k] & 0xc0 != 0x80 { return 0 }
        return length
    }

    /// UTF-16LE runs of ASCII characters (a printable byte followed by a zero byte), at either alignment.
    static func wide(_ bytes: ArraySlice<UInt8>, minimum: Int, into out: inout [UInt8]) {
        for alignment in 0..<2 {
            var run: [UInt8] = []
            var i = bytes.startIndex + alignment
            while i + 1 < bytes.endIndex {
                if isPrintable(bytes[i]) && bytes[i + 1] == 0 {
                    run.append(bytes[i])
                } else {
                    if run.count >= minimum { out += run + [10] }
                    run.removeAll(keepingCapacity: true)
                }
                i += 2
            }
            if run.count >= minimum { out += run + [10] }
        }
    }
}
