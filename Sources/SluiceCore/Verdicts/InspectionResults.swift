// What the inspect stage found: DLP findings (redacted), the count per
// profile, and the message's attachments (names and types). Typed values that
// rules, logs, the dry run and the archive read the same way.

/// One DLP detector hit: where, and a redacted sample (never the value).
public struct DLPFindingRecord: Sendable, Codable, Hashable {
    public var detector: String
    /// The part ("body", "attachment report.zip/q3.csv", "headers").
    public var part: String
    public var offset: Int
    public var snippet: String

    public init(detector: String, part: String, offset: Int, snippet: String) {
        self.detector = detector
        self.part = part
        self.offset = offset
        self.snippet = snippet
    }
}

/// How often a DLP profile's detectors were found, and how often the profile requires.
public struct DLPProfileCount: Sendable, Codable, Hashable {
    public var count: Int
    public var minCount: Int

    public init(count: Int, minCount: Int) {
        self.count = count
        self.minCount = minCount
    }

    public var matched: Bool { count >= minCount }
}

public struct AttachmentInfo: Sendable, Codable, Hashable {
    /// The file name (zip entries as "a.zip/b.csv").
    public var name: String?
    public var contentType: String

    public init(name: String?, contentType: String) {
        self.name = name
        self.contentType = contentType
    }
}

public struct InspectionResults: Sendable, Codable, Hashable {
    /// By profile name; a profile left out by sampling is absent.
    public var profiles: [String: DLPProfileCount] = [:]
    public var findings: [DLPFindingRecord] = []
    public var attachments: [AttachmentInfo] = []
    /// The message was scanned only in part (size or structure limits).
    public var truncated = false

    public init() {}

    /// "pci=2, secrets=1": the profiles that found something, for logs and the archive.
    public var summary: String {
        profiles.filter { $0.value.count > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.count)" }.joined(separator: ", ")
    }
}
