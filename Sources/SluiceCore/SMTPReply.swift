// SMTPReply: one SMTP reply (code, optional enhanced status, text lines) and its wire form.

public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var status: EnhancedStatus?
    public var lines: [String]

    public init(_ code: Int, _ status: EnhancedStatus? = nil, _ text: String) {
        self.code = code
        self.status = status
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    public init(code: Int, status: EnhancedStatus?, lines: [String]) {
        self.code = code
        self.status = status
        self.lines = lines.isEmpty ? [""] : lines
    }

    public var isPositive: Bool { code < 400 }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { code >= 500 }

    /// The reply as it goes on the wire: "250-first\r\n250 last\r\n", each line
    /// carrying the enhanced status code when there is one (RFC 2034).
    public var wireFormat: String {
        var out = ""
        for (index, line) in lines.enumerated() {
            let separator = index == lines.count - 1 ? " " : "-"
            out += "\(code)\(separator)"
            if let status { out += "\(status) " }
            // A reply line must never carry CR or LF of its own.
            out += line.filter { $0 != "\r" && $0 != "\n" }
            out += "\r\n"
        }
        return out
    }

    public var description: String {
        let status = status.map { "\($0) " } ?? ""
        return "\(code) \(status)\(lines.joined(separator: " / "))"
    }
}

extension SMTPReply {
    public static func ok(_ text: String = "Ok", status: EnhancedStatus = .init(2, 0, 0)) -> SMTPReply {
        SMTPReply(250, status, text)
    }
}
