// SubjectTagger: the tag_subject transformation on the raw header section:
// "Subject: hello" becomes "Subject: [EXTERNAL] hello" (once per tag; folded
// subjects keep their folding). A message without a Subject gets one.

public enum SubjectTagger {
    /// `header`: the header section including its final empty line (CRLF CRLF).
    public static func tag(_ header: [UInt8], with tags: [String]) -> [UInt8] {
        guard !tags.isEmpty else { return header }
        let prefix = tags.joined(separator: " ")
        var lines = splitLines(header)
        if let i = lines.firstIndex(where: { isSubject($0) }) {
            let line = lines[i]
            let colon = line.firstIndex(of: UInt8(ascii: ":"))!
            var value = Array(line[(colon + 1)...])
            while value.first == 32 || value.first == 9 { value.removeFirst() }
            let text = String(decoding: value, as: UTF8.self)
            let missing = tags.filter { !text.hasPrefix($0) && !text.contains($0 + " ") }
            guard !missing.isEmpty else { return header }
            lines[i] = Array("Subject: ".utf8) + Array(missing.joined(separator: " ").utf8) + [32] + value
        } else {
            // No Subject: add one before the empty line that ends the headers.
            let at = max(0, lines.count - 1)
            lines.insert(Array("Subject: \(prefix)\r\n".utf8), at: at)
        }
        return lines.flatMap { $0 }
    }

    static func isSubject(_ line: [UInt8]) -> Bool {
        guard line.count >= 8 else { return false }
        return String(decoding: line.prefix(8), as: UTF8.self).lowercased() == "subject:"
    }

    /// Lines with their CRLF kept.
    static func splitLines(_ bytes: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        for i in bytes.indices where bytes[i] == 10 {
            out.append(Array(bytes[start...i]))
            start = i + 1
        }
        if start < bytes.count { out.append(Array(bytes[start...])) }
        return out
    }
}
