// The DLP report as the pipeline carries it: typed InspectionResults (counts
// per profile with their minimum, redacted findings, attachment names and
// types). The daemon, `sluice rules test` and `sluice dlp scan` read a scan
// through this one conversion.

import SluiceCore

extension DLPReport {
    public func results(book: DLPBook) -> InspectionResults {
        var r = InspectionResults()
        for (profile, count) in counts {
            r.profiles[profile] = DLPProfileCount(count: count, minCount: book.profiles[profile]?.minCount ?? 1)
        }
        r.findings = findings.map { DLPFindingRecord(detector: $0.detector, part: $0.part, offset: $0.offset, snippet: $0.snippet) }
        r.attachments = parts.filter { $0.filename != nil && !$0.derived }.map { AttachmentInfo(name: $0.filename, contentType: $0.contentType) }
        r.truncated = truncated
        r.unscannable = unscannable.map { UnscannableRecord(path: $0.path, reason: $0.reason, detail: $0.detail) }
        r.edm = edm
        return r
    }
}

extension DLPScanner {
    /// Scans the first `length` bytes of a file (blocking I/O). `sampled` applies each profile's
    /// sample_percent (the daemon); off, every profile counts (dry runs, so the answer is repeatable).
    public func inspect(path: String, length: Int, sampled: Bool) throws -> InspectionResults {
        try inspect(path: path, length: length, sampled: sampled, indexText: false).results
    }

    /// The same, and the search index's text when `indexText` (nil when the profiles' walk could not collect it).
    public func inspect(path: String, length: Int, sampled: Bool, indexText: Bool) throws -> (results: InspectionResults, text: IndexText?) {
        let percents = book.profiles.mapValues(\.samplePercent)
        let report = try scan(path: path, length: length, indexText: indexText) { profile in
            !sampled || Int.random(in: 0..<100) < (percents[profile] ?? 100)
        }
        return (report.results(book: book), report.indexText)
    }
}
