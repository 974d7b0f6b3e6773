// SMTPReplyParser: reply lines from a server ("250-first", "250 last") into
// SMTPReply values, with the enhanced status code split off when present.

import SluiceCore

public struct SMTPReplyParser: Sendable {
    private var code: Int?
    private var lines: [String] = []

    public init() {}

    public enum ParseError: Error, Equatable {
        case malformed(String)
    }

    /// Feeds one line (without CRLF); returns the reply once its last line arrived.
    public mutating func feed(_ line: String) throws -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, let c = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(c) else {
            throw ParseError.malformed(line)
        }
        if let code, code != c { throw ParseError.malformed(line) }
        code = c
        let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else { throw ParseError.malformed(line) }
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        guard separator == UInt8(ascii: " ") else { return nil }
        defer {
            self.code = nil
            lines = []
        }
        // Split "2.0.0 text" off every line when the first carries it.
        var status: EnhancedStatus?
        var texts = lines
        if let first = lines.first?.split(separator: " ", maxSplits: 1).first, let s = EnhancedStatus(String(first)), s.klass == c / 100 {
            status = s
            texts = lines.map { l in
                let parts = l.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.count == 2 && EnhancedStatus(String(parts[0])) != nil ? String(parts[1]) : l
            }
        }
        return SMTPReply(code: c, status: status, lines: texts)
    }
}
