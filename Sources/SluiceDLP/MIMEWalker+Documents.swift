// The MIME walk as the document extractor's sink: the text of what an
// attachment holds (zip members, Office XML, PDF pages, OCR) becomes parts of
// the message, delivered within the same text budget; members are listed as
// attachments; how each was read is kept; what could not be read is recorded.

import SluiceCore

/// The document extractor's output, turned into parts of the message: text goes through the same
/// bounded delivery as any part's, members are listed as attachments, and what could not be read
/// is recorded.
extension MIMEWalker: DocumentSink {
    var isFull: Bool { scanned >= limits.maxBytes }

    private mutating func documentPart(_ path: String, derived: Bool, pdf: Bool = false) -> MIMEPart? {
        guard let root = documentRoot else { return nil }
        if path == root.path { return root.part }
        if let known = documentParts[path] { return known }
        var part = MIMEPart(index: parts.count, contentType: "application/octet-stream", filename: path, label: "attachment \(path)")
        part.derived = derived
        part.fromPDF = pdf
        if parts.count < limits.maxParts {
            parts.append(part)
        } else {
            truncatedStructure = true
            part.index = limits.maxParts + documentParts.count + 1
        }
        documentParts[path] = part
        return part
    }

    mutating func text(_ bytes: [UInt8], path: String, pdf: Bool) {
        guard let part = documentPart(path, derived: true, pdf: pdf) else { return }
        deliver(bytes, part: part)
    }

    mutating func endOfText(path: String) {
        guard let part = documentPart(path, derived: true) else { return }
        sink.endOfPart(part)
    }

    mutating func member(path: String) {
        if var part = documentPart(path, derived: false), part.derived {
            part.derived = false
            documentParts[path] = part
            if let i = parts.firstIndex(where: { $0.index == part.index }) { parts[i] = part }
        }
    }

    mutating func read(path: String, as how: String, seconds: Double) {
        guard var part = documentPart(path, derived: true) else { return }
        part.readAs = how
        part.seconds = seconds
        if path != documentRoot?.path { documentParts[path] = part }
        if let i = parts.firstIndex(where: { $0.index == part.index }) { parts[i] = part }
    }

    mutating func unscannable(path: String, reason: UnscannableReason, detail: String) {
        guard let root = documentRoot else { return }
        record(UnscannablePart(path: path, reason: reason, detail: detail), part: root.part)
    }
}
