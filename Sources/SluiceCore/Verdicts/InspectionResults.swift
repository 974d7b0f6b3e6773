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

/// Why a part could not be scanned in full: a verdict the rules see (`dlp: { unscannable: true }`).
public enum UnscannableReason: String, Sendable, CaseIterable, Codable {
    /// Expands past the ratio or byte limits (a zip or gzip bomb).
    case bomb
    /// Password-protected: an encrypted zip entry, PDF or Office document.
    case encrypted
    /// Not what its bytes claim to be: a truncated or damaged container or PDF.
    case corrupt
    /// Deeper, larger or with more members than the limits allow.
    case limits
    /// Took longer than its time budget (PDF).
    case timeout
    /// A format whose compression or structure Sluice does not read (zip64, an unknown method).
    case unsupported
}

/// An attachment, or a piece of one, that DLP could not read in full: rules see it as
/// `dlp: { unscannable: true }`.
public struct UnscannableRecord: Sendable, Codable, Hashable {
    /// "files.zip/secret.docx", "card.pdf".
    public var path: String
    public var reason: UnscannableReason
    public var detail: String

    public init(path: String, reason: UnscannableReason, detail: String) {
        self.path = path
        self.reason = reason
        self.detail = detail
    }
}

/// An Exact Data Match source's answer for one message: the record with the most distinct columns found
/// together (how many, and which columns; never the values), and how many records had any.
public struct EDMMatch: Sendable, Codable, Hashable {
    public var fields: Int
    public var columns: [String]
    public var records: Int

    public init(fields: Int, columns: [String], records: Int) {
        self.fields = fields
        self.columns = columns
        self.records = records
    }
}

public struct InspectionResults: Verdict, Hashable {
    public static let name = "inspection"
    /// By profile name; a profile left out by sampling is absent.
    public var profiles: [String: DLPProfileCount] = [:]
    public var findings: [DLPFindingRecord] = []
    public var attachments: [AttachmentInfo] = []
    /// The message was scanned only in part (size or structure limits).
    public var truncated = false
    /// Attachments that could not be read in full, with the reason.
    public var unscannable: [UnscannableRecord] = []
    /// Exact Data Match, by source: what the best-matching record had in this message.
    public var edm: [String: EDMMatch] = [:]

    public init() {}

    enum CodingKeys: String, CodingKey { case profiles, findings, attachments, truncated, unscannable, edm }

    // Queue entries written before `unscannable` existed read as "nothing unscannable".
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        profiles = try c.decodeIfPresent([String: DLPProfileCount].self, forKey: .profiles) ?? [:]
        findings = try c.decodeIfPresent([DLPFindingRecord].self, forKey: .findings) ?? []
        attachments = try c.decodeIfPresent([AttachmentInfo].self, forKey: .attachments) ?? []
        truncated = try c.decodeIfPresent(Bool.self, forKey: .truncated) ?? false
        unscannable = try c.decodeIfPresent([UnscannableRecord].self, forKey: .unscannable) ?? []
        edm = try c.decodeIfPresent([String: EDMMatch].self, forKey: .edm) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(profiles, forKey: .profiles)
        try c.encode(findings, forKey: .findings)
        try c.encode(attachments, forKey: .attachments)
        try c.encode(truncated, forKey: .truncated)
        try c.encode(unscannable, forKey: .unscannable)
        // Left out when empty: queue files stay as they were for mail without EDM sources.
        if !edm.isEmpty { try c.encode(edm, forKey: .edm) }
    }

    /// The reasons found, once each ("encrypted, bomb"), for logs.
    public var unscannableSummary: String {
        var seen: [String] = []
        for u in unscannable where !seen.contains(u.reason.rawValue) { seen.append(u.reason.rawValue) }
        return seen.joined(separator: ", ")
    }

    /// What the queue keeps: the first 20 findings (redacted snippets, as logged), for `sluice quarantine show`
    /// and the archive.
    public var forQueue: InspectionResults {
        var copy = self
        if copy.findings.count > 20 { copy.findings = Array(copy.findings.prefix(20)) }
        return copy
    }

    /// "pci=2, secrets=1": the profiles that found something, for logs and the archive.
    public var summary: String {
        (profiles.filter { $0.value.count > 0 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.count)" }
            + edm.sorted { $0.key < $1.key }.map { "edm:\($0.key)=\($0.value.fields) fields" }).joined(separator: ", ")
    }
}
