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
    /// The search index's text, when the scan was asked to collect it (one walk for both).
    public var indexText: IndexText?
    /// Exact Data Match by source (nothing when no source is configured or none matched).
    public var edm: [String: EDMMatch] = [:]
}

public struct DLPScanner: Sendable {
    public let book: DLPBook
    let engine: DLPEngine?
    /// The Exact Data Match sources (nil: none configured).
    let edm: EDMMatcher?

    public init(book: DLPBook, edm: EDMMatcher? = nil) throws {
        self.book = book
        self.edm = edm
        engine = book.detectors.isEmpty ? nil : try DLPEngine(detectors: book.detectors)
    }

    /// Nothing to look for: no profile and no EDM source.
    public var isEmpty: Bool { engine == nil && edm == nil }

    struct Collector: MIMETextSink {
        /// nil: only the structure is wanted (attachment names and types).
        let engine: DLPEngine?
        let edm: EDMMatcher?
        var edmHits = EDMMatcher.Hits()
        /// What the profiles read: text up to this many bytes, attachments' text or not (the walk may decode more
        /// when it also collects the index text).
        let budget: Int
        let readsAttachments: Bool
        var index: IndexText.Collector?
        var findings: [Finding] = []
        var offsets: [Int: Int] = [:]
        var bytes = 0
        /// Text past the profiles' budget (collected for the index only): the scan is then partial.
        var beyondBudget = false
        var failure: (any Error)?

        mutating func text(_ bytes: [UInt8], part: MIMEPart) {
            index?.text(bytes, part: part)
            if part.filename != nil && !readsAttachments { return }
            let room = budget - self.bytes
            guard room > 0 else {
                beyondBudget = true
                return
            }
            let piece = bytes.count <= room ? bytes : Array(bytes.prefix(room))
            if piece.count < bytes.count { beyondBudget = true }
            let base = offsets[part.index, default: 0]
            offsets[part.index] = base + piece.count
            self.bytes += piece.count
            do {
                if let engine { findings += try engine.findings(in: piece, part: part.label, base: base) }
                try edm?.scan(piece, part: part.label, base: base, into: &edmHits)
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

    /// Scans the first `length` bytes of a file, chunk by chunk (blocking I/O); `indexText`: the same walk collects
    /// the search index's text too.
    public func scan(path: String, length: Int, indexText: Bool = false, sample: (String) -> Bool = { _ in true }) throws -> DLPReport {
        try scan(sample: sample, indexText: indexText) { feed in
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
        sample: (String) -> Bool, feedsWholeMessage: Bool = true, indexText: Bool = false,
        source: (inout MIMEWalker<Collector>) throws -> Void
    ) throws -> DLPReport {
        let budget = book.profiles.values.map(\.maxBytes).max() ?? MIMELimits().maxBytes
        // EDM sources read attachments too (a spreadsheet of customers is what they are for).
        let readsAttachments = (engine != nil && book.profiles.values.contains { $0.scanAttachments }) || edm != nil
        // One walk for both readers when the profiles read attachments (the default) or no text at all: the
        // walk decodes what the index needs too (every attachment's text; PDFs only for the profiles). When they
        // read the body only, the index text is left to a walk of its own rather than decode attachments here.
        let shared = indexText && (readsAttachments || engine == nil)
        var limits: MIMELimits
        if shared {
            limits = IndexText.limits(readingDocuments: readsAttachments)
            limits.maxBytes = max(budget, limits.maxBytes)
        } else {
            limits = MIMELimits()
            limits.maxBytes = budget
            limits.scanAttachments = readsAttachments
        }
        // OCR only when a profile asks for it: mail without images costs nothing, and with images only then.
        limits.content.ocr = engine != nil && book.profiles.values.contains { $0.ocr && $0.scanAttachments }
        let collector = Collector(
            engine: engine, edm: edm, budget: budget, readsAttachments: readsAttachments, index: shared ? IndexText.Collector() : nil)
        var walker = MIMEWalker(sink: collector, limits: limits)
        try source(&walker)
        if feedsWholeMessage { walker.finish() }
        if let failure = walker.sink.failure { throw failure }
        var report = DLPReport(
            // Partial for the profiles: parts not seen, or text they read that was not scanned (a walk that only
            // lists the structure is not cut short by the text it did not read).
            findings: walker.sink.findings + walker.sink.edmHits.findings, parts: walker.parts,
            truncated: walker.truncatedStructure || (!isEmpty && (walker.truncatedText || walker.sink.beyondBudget)),
            bytesScanned: walker.sink.bytes, unscannable: walker.unscannable, indexText: walker.sink.index?.result(parts: walker.parts),
            edm: edm?.results(walker.sink.edmHits) ?? [:])
        var attachments: [String: MIMEPart] = [:]
        for p in walker.parts where p.filename != nil && attachments[p.label] == nil { attachments[p.label] = p }
        for (name, profile) in book.profiles where sample(name) {
            let wanted = Set(profile.detectors)
            var count = 0
            for f in report.findings where wanted.contains(f.detector) {
                // Text read by OCR ("scan.png (image)", "scan.pdf/page 3 (image)") counts for profiles that asked for it.
                if !profile.ocr && f.part.hasSuffix(" (image)") { continue }
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
