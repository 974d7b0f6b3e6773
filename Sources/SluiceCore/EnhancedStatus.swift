// EnhancedStatus: an RFC 3463 enhanced mail system status code (class.subject.detail).

public struct EnhancedStatus: Sendable, Hashable, CustomStringConvertible, Codable {
    public let klass: Int
    public let subject: Int
    public let detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses "5.7.1"; nil when malformed (class must be 2, 4 or 5).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let k = Int(parts[0]), [2, 4, 5].contains(k),
            let s = Int(parts[1]), (0...999).contains(s),
            let d = Int(parts[2]), (0...999).contains(d)
        else { return nil }
        self.init(k, s, d)
    }

    public var description: String { "\(klass).\(subject).\(detail)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let status = EnhancedStatus(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad status \(text)"))
        }
        self = status
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
