// IndexText: what a search index takes of a message's content: the decoded
// text of its parts in MIME order (the message's header fields excluded, the
// index has them as columns), at most 256 KiB and no PDF text (FTS5 indexing
// and Poppler cost more per message than the rest of the pipeline together,
// bench/dlp-docs.sh), and the names of its attachments (members of archives
// included). The inspect stage collects it during the DLP scan, so the
// archive does not walk the message again; `read` is the walk of its own for
// a message that was not inspected (or whose text was not kept).

import SluiceCore

public struct IndexText: DerivedValue, Equatable {
    public static let limit = 256 << 10

    public var text: [UInt8] = []
    public var attachments: [String] = []

    public init(text: [UInt8] = [], attachments: [String] = []) {
        self.text = text
        self.attachments = attachments
    }

    public var byteCount: Int { text.count + attachments.reduce(0) { $0 + $1.utf8.count + 16 } + 64 }

    /// Reads a whole message for its index text (a MIME walk of its own).
    public static func read(_ raw: [UInt8]) -> IndexText {
        var walker = MIMEWalker(sink: Collector(), limits: limits(readingDocuments: false))
        walker.feed(raw)
        walker.finish()
        return walker.sink.result(parts: walker.parts)
    }

    /// What a walk must decode for the index: attachments too; PDFs only when another reader needs them.
    static func limits(readingDocuments pdf: Bool) -> MIMELimits {
        var limits = MIMELimits()
        // The walk's budget counts the message's header fields too, which the index text leaves out.
        limits.maxBytes = Self.limit + limits.maxHeaderBytes
        limits.scanAttachments = true
        limits.content.readPDF = pdf
        return limits
    }

    /// Collects the index text from a walk's pieces (on its own, or inside the DLP scan's sink).
    struct Collector: MIMETextSink {
        var text: [UInt8] = []

        var isFull: Bool { text.count >= IndexText.limit }

        mutating func text(_ bytes: [UInt8], part: MIMEPart) {
            guard part.label != "headers", !part.fromPDF, !isFull else { return }
            text += bytes.prefix(IndexText.limit - text.count)
            if !isFull { text.append(10) }
        }

        mutating func endOfPart(_ part: MIMEPart) {}

        func result(parts: [MIMEPart]) -> IndexText {
            IndexText(text: text, attachments: parts.filter { !$0.derived }.compactMap(\.filename))
        }
    }
}
