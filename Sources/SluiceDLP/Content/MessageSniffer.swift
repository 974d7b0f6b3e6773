// Whether a file is a message (RFC 5322 header fields, then a blank line) or
// something else, for `sluice dlp scan FILE`: a message is walked part by
// part, anything else is scanned as the attachment it would be.

public enum MessageSniffer {
    public static func looksLikeMessage(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(64 * 1024)
        var fields = 0
        var lineStart = head.startIndex
        while lineStart < head.endIndex {
            guard let nl = head[lineStart...].firstIndex(of: 10) else { return false }
            var line = head[lineStart..<nl]
            if line.last == 13 { line = line.dropLast() }
            if line.isEmpty { return fields > 0 }
            if line.first == 32 || line.first == 9 {
                guard fields > 0 else { return false }  // a continuation needs a field before it
            } else if fields == 0 && line.starts(with: Array("From ".utf8)) {
                // an mbox separator line
            } else {
                guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                    line[line.startIndex..<colon].allSatisfy({ $0 > 32 && $0 < 127 })
                else { return false }
                fields += 1
            }
            lineStart = nl + 1
        }
        return false
    }
}
