// DLPScanner: one pass over a message: the MIME walker decodes it in bounded
// pieces, the engine finds candidates in each piece, and the profiles count
// what they care about. The message file is read in 64 KiB chunks; memory
// stays bounded whatever the message size.

import Foundation
import SluiceCore

public struct DLPReport: Sendable {
    public var findings: [Finding] = []
    /// Per profile: findings it counts (after its attachment and sampling options).
    public var counts: [String: Int] = [:]
    public var parts: [MIMEPart] = []
    public var truncated = false
    public var bytesScanned = 0
    /// Attachments, or pieces of them, that could not be read in full (encrypted, bombs, corrupt).
    public var unscannable: [UnscannablePart] = []
}

public struct DLPScanner: Sendable {
    public let book: DLPBook
    let engine: DLPEngine?

    public init(book: DLPBook) throws {
        self.book = book
        engine = book.detectors.isEmpty ? nil : try DLPEngine(detectors: book.detectors)
    }

    public var isEmpty: Bool { engine == nil }

    struct Collector: MIMETextSink {
        /// nil: only the structure is wanted (attachment names and types).
        let engine: DLPEngine?
        var findings: [Finding] = []
        var offsets: [Int: Int] = [:]
        var bytes = 0
        var failure: (any Error)?

        mutating func text(_ bytes: [UInt8], part: MIMEPart) {
            let base = offsets[part.index, default: 0]
            offsets[part.index] = base + bytes.count
            self.bytes += bytes.count
            guard let engine else { return }
            do {
                findings += try engine.findings(in: bytes, part: part.label, base: base)
            } catch {
                failure = error
            }
        }

        mutating func endOfPart(_ part: MIMEPart) {}

        mutating func anomaly(_ kind: String, part: MIMEPart, detail: String) {
            findings.append(Finding(detector: kind, part: part.label, offset: 0, snippet: detail, length: 0))
        }
    }

    /// Scans bytes already in memory (tests, `rules test`).
    public func scan(_ message: [UInt8], sample: (String) -> Bool = { _ in true }) throws -> DLPReport {
        try scan(sample: sample) { walker in walker.feed(message) }
    }

    /// Scans a file that is not a message (a document, an archive, a text file) as the attachment it would be.
    public func scan(document: [UInt8], name: String, sample: (String) -> Bool = { _ in true }) throws -> DLPReport {
        try scan(sample: sample, feedsWholeMessage: false) { walker in walker.scanDocument(document, name: name) }
    }

    /// Scans the first `length` bytes of a file, chunk by chunk (blocking I/O).
    public func scan(path: String, length: Int, sample: (String) -> Bool = { _ in true }) throws -> DLPReport {
        try scan(sample: sample) { feed in
            guard let h = FileHandle(forReadingAtPath: path) else { throw SMTPError(451, .init(4, 3, 0), "Spool file missing") }
            defer { try? h.close() }
            var remaining = length
            while remaining > 0, let data = try h.read(upToCount: min(64 * 1024, remaining)), !data.isEmpty {
                feed.feed([UInt8](data))
                remaining -= data.count
            }
        }
    }

    func scan(
        sample: (String) -> Bool, feedsWholeMessage: Bool = true, source: (inout MIMEWalker<Collector>) throws -> Void
    ) throws -> DLPReport {
        var limits = MIMELimits()
        limits.maxBytes = book.profiles.values.map(\.maxBytes).max() ?? limits.maxBytes
        limits.scanAttachments = engine != nil && book.profiles.values.contains { $0.scanAttachments }
        var walker = MIMEWalker(sink: Collector(engine: engine), limits: limits)
        try source(&walker)
        if feedsWholeMessage { walker.finish() }
        if let failure = walker.sink.failure { throw failure }
        var report = DLPReport(
            findings: walker.sink.findings, parts: walker.parts, truncated: walker.truncated, bytesScanned: walker.sink.bytes,
            unscannable: walker.unscannable)
        var attachments: [String: MIMEPart] = [:]
        for p in walker.parts where p.filename != nil && attachments[p.label] == nil { attachments[p.label] = p }
        for (name, profile) in book.profiles where sample(name) {
            let wanted = Set(profile.detectors)
            var count = 0
            for f in report.findings where wanted.contains(f.detector) {
                if let attachment = attachments[f.part] {
                    guard profile.scanAttachments else { continue }
                    // A file type names the attachment or any container on its path (report.xlsx/xl/sharedStrings.xml).
                    let names = (attachment.filename?.lowercased() ?? "").split(separator: "/")
                    let typed = profile.fileTypes.contains { t in names.contains { $0.hasSuffix(t) } || attachment.contentType == t }
                    if !profile.fileTypes.isEmpty && !typed { continue }
                }
                count += 1
            }
            report.counts[name] = count
        }
        return report
    }
}
