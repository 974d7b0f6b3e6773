// What the MIME walk hands out: its limits, the parts it saw (with how each
// was read), what could not be scanned, and the sink protocol its readers
// (DLP's collector, the archive's index text) implement.

import SluiceCore

public struct MIMELimits: Sendable {
    public var maxDepth = 20
    public var maxParts = 1000
    public var maxLine = 64 * 1024
    public var maxHeaderBytes = 256 * 1024
    /// Decoded text handed to the sink at most, across the message.
    public var maxBytes = 32 << 20
    public var scanAttachments = true
    /// How attachments are opened: containers, documents, PDFs.
    public var content = ContentLimits()

    public init() {}
}

/// A part as the walker saw it (for findings and attachment conditions).
public struct MIMEPart: Sendable, Hashable {
    public var index: Int
    public var contentType: String
    public var filename: String?
    /// "headers", "body", "part 2 (text/html)", "attachment report.csv",
    /// "attachment report.docx/word/document.xml", "attachment card.pdf/page 1".
    public var label: String
    /// Text read out of a document (an XML part of an Office file, a PDF page): it labels
    /// findings but is not an attachment of its own.
    public var derived = false
    /// Text a PDF's page layout or OCR gave (the search index leaves it out: see IndexText).
    public var fromPDF = false
    /// How it was read: "text", "html", "zip", "pdf", "tar", "image (OCR)", "printable runs", "not read"
    /// (`sluice dlp scan --json`); nil for a structure-only part (multipart, headers).
    public var readAs: String?
    /// The time reading it took (documents: with their members).
    public var seconds = 0.0
}

/// A part, or a piece of one, that could not be scanned in full, and why.
public struct UnscannablePart: Sendable, Hashable {
    public var path: String
    public var reason: UnscannableReason
    public var detail: String
}

public protocol MIMETextSink {
    mutating func text(_ bytes: [UInt8], part: MIMEPart)
    /// The end of a part's text (the sink may flush what it keeps across pieces).
    mutating func endOfPart(_ part: MIMEPart)
    /// Something about the structure itself ("zip_bomb").
    mutating func anomaly(_ kind: String, part: MIMEPart, detail: String)
}

extension MIMETextSink {
    public mutating func anomaly(_ kind: String, part: MIMEPart, detail: String) {}
}
