// MessageHeaders: the RFC 5322 header section of a message, split into fields
// with folding undone. Pure; used by the checks that run at end of DATA.

public struct HeaderField: Sendable, Hashable {
    public var name: String
    /// The value with folding (CRLF + WSP) undone, leading space trimmed.
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public struct MessageHeaders: Sendable {
    public private(set) var fields: [HeaderField]

    public init(fields: [HeaderField]) { self.fields = fields }

    /// Parses a header section (bytes up to, not including, the empty line).
    /// Lines that are neither fields nor continuations are skipped, as receivers do.
    public init(parsing bytes: some Collection<UInt8>) {
        var fields: [HeaderField] = []
        let text = String(decoding: bytes, as: UTF8.self)
        var current: (String, String)?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            if line.first == " " || line.first == "\t" {
                if current != nil { current!.1 += String(line) }
                continue
            }
            if let c = current { fields.append(HeaderField(name: c.0, value: Self.trim(c.1))) }
            current = nil
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingTrailingSpaces()
            guard !name.isEmpty, !name.contains(" ") else { continue }
            current = (String(name), String(line[line.index(after: colon)...]))
        }
        if let c = current { fields.append(HeaderField(name: c.0, value: Self.trim(c.1))) }
        self.fields = fields
    }

    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    public func count(_ name: String) -> Int {
        fields.reduce(0) { $0 + ($1.name.caseInsensitiveEquals(name) ? 1 : 0) }
    }

    public func first(_ name: String) -> String? { values(name).first }

    private static func trim(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub = sub.dropFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub = sub.dropLast() }
        return String(sub)
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var s = self
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

extension String {
    public func caseInsensitiveEquals(_ other: String) -> Bool {
        self.utf8.count == other.utf8.count && self.lowercased() == other.lowercased()
    }
}

/// Counts the mailboxes in an address-list header value ("a@x, \"B, C\" <b@y>"):
/// commas inside quotes, comments, angle brackets and group syntax don't split.
public func countMailboxes(inAddressList value: String) -> Int {
    var count = 0
    var sawContent = false
    var inQuote = false
    var commentDepth = 0
    var inAngle = false
    var escaped = false
    for ch in value {
        if escaped { escaped = false; continue }
        switch ch {
        case "\\" where inQuote || commentDepth > 0: escaped = true
        case "\"" where commentDepth == 0: inQuote.toggle(); sawContent = true
        case "(" where !inQuote: commentDepth += 1
        case ")" where !inQuote && commentDepth > 0: commentDepth -= 1
        case "<" where !inQuote && commentDepth == 0: inAngle = true; sawContent = true
        case ">" where !inQuote && commentDepth == 0: inAngle = false
        case ":" where !inQuote && commentDepth == 0 && !inAngle:
            // Group name: "Team: a@x, b@y;" -- the name itself is not a mailbox.
            sawContent = false
        case ";" where !inQuote && commentDepth == 0 && !inAngle:
            if sawContent { count += 1 }
            sawContent = false
        case "," where !inQuote && commentDepth == 0 && !inAngle:
            if sawContent { count += 1 }
            sawContent = false
        case " ", "\t", "\r", "\n": break
        default:
            if commentDepth == 0 { sawContent = true }
        }
    }
    if sawContent { count += 1 }
    return count
}

/// "local@domain" of each mailbox in an address-list header value
/// ("Name <a@x>, (comment) b@y, Team: c@z;"); quotes, comments and group names skipped.
public func mailboxAddresses(inAddressList value: String) -> [String] {
    var mailboxes: [String] = []
    var current = ""
    var inQuote = false
    var depth = 0
    for ch in value {
        if ch == "\"" && depth == 0 { inQuote.toggle(); continue }
        if inQuote { continue }
        if ch == "(" { depth += 1; continue }
        if ch == ")" { depth = max(0, depth - 1); continue }
        if depth > 0 { continue }
        if ch == "," || ch == ";" {
            mailboxes.append(current)
            current = ""
        } else if ch == ":" {
            current = ""  // a group name
        } else {
            current.append(ch)
        }
    }
    mailboxes.append(current)
    return mailboxes.compactMap { raw in
        var text = Substring(raw)
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            text = text[text.index(after: open)..<close]
        }
        while let f = text.first, f == " " || f == "\t" || f == "\r" || f == "\n" { text = text.dropFirst() }
        while let l = text.last, l == " " || l == "\t" || l == "\r" || l == "\n" { text = text.dropLast() }
        guard let at = text.lastIndex(of: "@"), at != text.startIndex, text.index(after: at) != text.endIndex else { return nil }
        return String(text)
    }
}
