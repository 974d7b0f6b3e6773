// MIMEWalker: a streaming MIME reader for scanning (R-DLP-1). Fed the message
// in chunks, it splits lines, follows multipart boundaries to any depth within
// limits (RFC 2046), treats message/rfc822 parts as nested messages, decodes
// base64 and quoted-printable, converts charsets to UTF-8, reduces HTML to
// text, and hands text to a sink in bounded pieces tagged with the part they
// came from. Headers are given with RFC 2047 words decoded. Every other part
// (an attachment, or a text part whose bytes say otherwise) is collected and
// given to the DocumentExtractor, which opens it by its bytes. Nothing in
// here can grow without a bound: lines, headers, depth, part count, documents
// and scanned bytes are all capped, and malformed input is read as far as it
// makes sense.

import Foundation
import SluiceCore

public struct MIMEWalker<Sink: MIMETextSink> {
    public var sink: Sink
    public let limits: MIMELimits
    public internal(set) var parts: [MIMEPart] = []
    /// Whether the walk stopped short: too deep, too many parts, or `limits.maxBytes` of text.
    public var truncated: Bool { truncatedStructure || truncatedText }
    /// Parts or depth over their limits: some parts were not seen.
    public internal(set) var truncatedStructure = false
    /// The text budget was spent: some text was not handed on.
    public private(set) var truncatedText = false

    private enum Encoding { case identity, base64, quotedPrintable }
    private enum Handling { case text, html, document, skip }

    private var pendingLine: [UInt8] = []
    private var inHeaders = true
    private var headerBytes: [UInt8] = []
    private var boundaries: [String] = []
    /// The boundary a multipart's header declared, active once its body starts.
    private var nextBoundary: String?
    private var current: MIMEPart? { didSet { inPart = current != nil } }
    /// Whether `current` is set, for the per-line path: reading `current` there copies its three strings.
    private var inPart = false
    private var encoding = Encoding.identity
    private var handling = Handling.text
    private var charset = "utf-8"
    private var base64 = Base64Stream()
    private var html = HTMLText()
    private var buffer: [UInt8] = []
    var scanned = 0
    private var depthOfMessage = 0
    private var isTopLevel = true
    /// An attachment's decoded bytes, opened at the end of the part.
    private var documentBytes: [UInt8] = []
    private var documentTooLarge = false
    /// Whether the current text part's first bytes were checked for what they really are.
    private var sniffed = false
    public private(set) var unscannable: [UnscannablePart] = []
    private var extractor: DocumentExtractor
    /// While a document is opened: its path and part, and the parts made for the text inside it.
    var documentRoot: (path: String, part: MIMEPart)?
    var documentParts: [String: MIMEPart] = [:]

    public init(sink: Sink, limits: MIMELimits = MIMELimits()) {
        self.sink = sink
        self.limits = limits
        extractor = DocumentExtractor(limits: limits.content, readText: limits.scanAttachments)
    }

    /// A file that is not a message (`sluice dlp scan report.docx`): scanned as the attachment it would be.
    public mutating func scanDocument(_ bytes: [UInt8], name: String) {
        let part = MIMEPart(index: parts.count, contentType: "application/octet-stream", filename: name, label: "attachment \(name)")
        parts.append(part)
        inHeaders = false
        isTopLevel = false
        current = part
        handling = .document
        encoding = .identity
        documentBytes = bytes
        endPart()
    }

    public mutating func feed(_ chunk: [UInt8]) {
        // Lines are handed on as pointers into the chunk: no copy, and no reference counting per line.
        chunk.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            var start = 0
            while start < buf.count {
                // memchr finds the line ends.
                guard let p = memchr(base + start, 10, buf.count - start) else {
                    pendingLine += buf[start...]
                    if pendingLine.count >= limits.maxLine { flushLongLine() }
                    return
                }
                let nl = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                var end = nl
                if pendingLine.isEmpty {
                    if end > start, buf[end - 1] == 13 { end -= 1 }
                    if end - start >= limits.maxLine {
                        pendingLine += buf[start..<end]
                        flushLongLine()
                    } else {
                        handle(UnsafeBufferPointer(rebasing: buf[start..<end]), ended: true)
                    }
                } else {
                    pendingLine += buf[start..<nl]
                    var line = pendingLine
                    pendingLine.removeAll(keepingCapacity: true)
                    if line.last == 13 { line.removeLast() }
                    line.withUnsafeBufferPointer { handle($0, ended: true) }
                }
                start = nl + 1
            }
        }
    }

    /// An absurdly long line: handed on in pieces (it cannot be a boundary or a header anyway).
    private mutating func flushLongLine() {
        let line = pendingLine
        pendingLine.removeAll(keepingCapacity: true)
        line.withUnsafeBufferPointer { handle($0, ended: false) }
    }

    public mutating func finish() {
        if !pendingLine.isEmpty {
            let line = pendingLine
            pendingLine.removeAll()
            line.withUnsafeBufferPointer { handle($0, ended: true) }
        }
        if inHeaders { endHeaders() }
        endPart()
    }

    private mutating func handle(_ line: UnsafeBufferPointer<UInt8>, ended: Bool) {
        if inHeaders {
            if line.isEmpty {
                endHeaders()
            } else if headerBytes.count < limits.maxHeaderBytes {
                headerBytes += line
                headerBytes += [13, 10]
            }
            return
        }
        if line.count > 2, line.first == 45, line[line.startIndex + 1] == 45, let b = matchingBoundary(line) {
            endPart()
            if b.closing {
                boundaries.removeSubrange(b.index...)
                handling = .skip  // the epilogue
                current = nil
            } else {
                boundaries.removeSubrange((b.index + 1)...)
                startHeaders()
            }
            return
        }
        body(line, ended: ended)
    }

    /// "--boundary" or "--boundary--" of any open multipart, innermost first.
    private func matchingBoundary(_ line: UnsafeBufferPointer<UInt8>) -> (index: Int, closing: Bool)? {
        guard !boundaries.isEmpty else { return nil }
        var text = line.dropFirst(2)
        while let last = text.last, last == 32 || last == 9 { text = text.dropLast() }
        for i in boundaries.indices.reversed() {
            let b = Array(boundaries[i].utf8)
            if text.elementsEqual(b) { return (i, false) }
            if text.count == b.count + 2, text.prefix(b.count).elementsEqual(b), text.suffix(2).elementsEqual([45, 45]) { return (i, true) }
        }
        return nil
    }

    private mutating func startHeaders() {
        inHeaders = true
        headerBytes.removeAll(keepingCapacity: true)
    }

    private mutating func endHeaders() {
        inHeaders = false
        let headers = MessageHeaders(parsing: headerBytes)
        headerBytes.removeAll(keepingCapacity: true)
        let type = ContentType(headers.first("Content-Type") ?? "text/plain")
        let disposition = headers.first("Content-Disposition").map(ContentType.init)
        let filename = disposition?.parameter("filename") ?? type.parameter("name")
        let index = parts.count
        guard index < limits.maxParts, boundaries.count <= limits.maxDepth else {
            truncatedStructure = true
            handling = .skip
            current = nil
            return
        }
        if isTopLevel {
            // The message's own headers are scanned too (Subject, addresses), decoded.
            emitHeaders(headers, index: index)
        }
        isTopLevel = false
        let label: String
        if let filename { label = "attachment \(filename)" } else if index == 0 { label = "body" } else { label = "part \(index + 1) (\(type.value))" }
        let part = MIMEPart(index: index, contentType: type.value, filename: filename, label: label)
        parts.append(part)
        current = part
        charset = type.parameter("charset") ?? "utf-8"
        switch headers.first("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": encoding = .base64
        case "quoted-printable": encoding = .quotedPrintable
        default: encoding = .identity
        }
        base64 = Base64Stream()
        html = HTMLText()
        sniffed = false
        if type.value.hasPrefix("multipart/") {
            if let b = type.parameter("boundary"), !b.isEmpty {
                boundaries.append(b)
            }
            handling = .skip  // the preamble
            current = nil
        } else if type.value == "message/rfc822" || type.value == "message/global" {
            // A forwarded message: its headers and parts follow.
            startHeaders()
            isTopLevel = true
            current = nil
        } else if filename != nil && !limits.scanAttachments && !Self.isArchive(type.value, filename: filename) {
            handling = .skip
        } else if type.value == "text/html" && filename == nil {
            handling = .html
        } else if Self.isText(type.value, filename: filename) && (filename == nil || limits.scanAttachments) {
            handling = .text
        } else {
            // Opened by its bytes; an archive is opened even when attachments are not scanned, for its entries' names.
            handling = .document
            documentBytes.removeAll(keepingCapacity: true)
            documentTooLarge = false
        }
        if current != nil {
            let how: String? = [.text: "text", .html: "html", .skip: "not read"][handling]
            current?.readAs = how
            parts[parts.count - 1].readAs = how
        }
    }

    static func isArchive(_ type: String, filename: String?) -> Bool {
        [
            "application/zip", "application/x-zip-compressed", "application/x-zip", "application/gzip", "application/x-gzip",
            "application/x-tar", "application/x-gtar", "application/x-cpio", "application/x-7z-compressed", "application/x-xz",
            "application/x-bzip2", "application/zstd", "application/x-lz4", "application/vnd.rar", "application/x-rar-compressed",
            "application/x-iso9660-image",
        ].contains(type)
            || DocumentExtractor.mayHoldFiles(filename ?? "")
    }

    static func isText(_ type: String, filename: String?) -> Bool {
        if type.hasPrefix("text/") || type.hasPrefix("message/") { return true }
        if ["application/json", "application/xml", "application/csv", "application/x-sh", "application/javascript",
            "application/x-pem-file", "application/pgp-keys", "application/x-yaml", "application/yaml", "application/sql"].contains(type)
        {
            return true
        }
        let textNames = [".txt", ".csv", ".json", ".xml", ".pem", ".key", ".env", ".yaml", ".yml", ".log", ".sql", ".ini", ".conf", ".md", ".tsv"]
        if let f = filename?.lowercased(), textNames.contains(where: { f.hasSuffix($0) }) { return true }
        return false
    }

    private mutating func emitHeaders(_ headers: MessageHeaders, index: Int) {
        let part = MIMEPart(index: -1 - index, contentType: "text/rfc822-headers", filename: nil, label: "headers")
        var text: [UInt8] = []
        for f in headers.fields where !["content-type", "content-transfer-encoding", "mime-version", "dkim-signature", "received"].contains(f.name.lowercased()) {
            text += Array("\(f.name): \(HeaderDecoding.decodeEncodedWords(f.value))\n".utf8)
        }
        deliver(text, part: part)
        sink.endOfPart(part)
    }

    private mutating func body(_ line: UnsafeBufferPointer<UInt8>, ended: Bool) {
        guard handling != .skip, inPart else { return }
        // Decoded straight into the part's buffer (or the document's): no array per line.
        if handling == .document {
            guard documentBytes.count + line.count <= limits.content.maxDocumentBytes else {
                documentTooLarge = true
                return
            }
            Self.decode(line, ended: ended, encoding: encoding, base64: &base64, into: &documentBytes)
            return
        }
        Self.decode(line, ended: ended, encoding: encoding, base64: &base64, into: &buffer)
        if buffer.count >= 64 * 1024, let part = current { flush(part) }
    }

    private static func decode(
        _ line: UnsafeBufferPointer<UInt8>, ended: Bool, encoding: Encoding, base64: inout Base64Stream, into out: inout [UInt8]
    ) {
        switch encoding {
        case .base64:
            base64.feed(line, into: &out)
        case .quotedPrintable:
            let soft = QuotedPrintable.decode(line, into: &out)
            if ended && !soft { out.append(10) }
        case .identity:
            out.append(contentsOf: line)
            if ended { out.append(10) }
        }
    }

    /// An attachment's bytes, opened by the DocumentExtractor; its text goes to the sink like any part's.
    private mutating func openDocument(_ bytes: [UInt8], part: MIMEPart) {
        let root = part.filename ?? part.label
        documentRoot = (root, part)
        var extractor = self.extractor
        extractor.extract(bytes[...], path: root, into: &self)
        self.extractor = extractor
        documentParts.removeAll()
        documentRoot = nil
    }

    private mutating func collectAsDocument() {
        handling = .document
        swap(&documentBytes, &buffer)
        buffer.removeAll(keepingCapacity: true)
        documentTooLarge = false
    }

    private mutating func flush(_ part: MIMEPart) {
        guard !buffer.isEmpty else { return }
        if !sniffed {
            sniffed = true
            switch ContentSniffer.kind(of: buffer, strict: true) {
            case .zip, .gzip, .archive, .pdf, .ole2, .text(.utf16LE), .text(.utf16BE):
                // Magic bytes decide, not the label: the rest of the part is collected and opened.
                collectAsDocument()
                return
            case .image where limits.content.ocr:
                // Images too when a profile asks for OCR.
                collectAsDocument()
                return
            case .text, .binary, .image:
                break
            }
        }
        // Cut at a line break when there is one, so that a multi-byte character is not split.
        var piece: [UInt8] = []
        swap(&piece, &buffer)
        if let nl = piece.lastIndex(of: 10), nl > piece.count / 2, nl + 1 < piece.count {
            buffer.append(contentsOf: piece[(nl + 1)...])
            piece.removeLast(piece.count - nl - 1)
        }
        buffer.reserveCapacity(80 * 1024)
        var text = Charset.toUTF8(piece, charset: charset)
        if handling == .html {
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            html.feed(text, into: &out)
            text = out
        }
        deliver(text, part: part)
    }

    private mutating func endPart() {
        guard let part = current else { return }
        if handling == .document {
            if encoding == .base64 { base64.finish(into: &documentBytes) }
            var bytes: [UInt8] = []
            swap(&bytes, &documentBytes)
            current = nil
            if documentTooLarge {
                let detail = "larger than \(limits.content.maxDocumentBytes >> 20) MiB"
                record(UnscannablePart(path: part.filename ?? part.label, reason: .limits, detail: detail), part: part)
            } else {
                openDocument(bytes, part: part)
            }
            sink.endOfPart(part)
            return
        }
        if encoding == .base64 { base64.finish(into: &buffer) }
        while !buffer.isEmpty {
            flush(part)
            if handling == .document {
                // The part's first bytes said it is no text (a zip sent as text/plain): opened instead.
                endPart()
                return
            }
        }
        sink.endOfPart(part)
        current = nil
    }

    mutating func record(_ u: UnscannablePart, part: MIMEPart) {
        if unscannable.count < 100 { unscannable.append(u) }
        if u.reason == .bomb { sink.anomaly("zip_bomb", part: part, detail: "\(u.path): \(u.detail)") }
    }

    mutating func deliver(_ text: [UInt8], part: MIMEPart) {
        guard !text.isEmpty else { return }
        let room = limits.maxBytes - scanned
        guard room > 0 else {
            truncatedText = true
            return
        }
        let piece = text.count <= room ? text : Array(text.prefix(room))
        if piece.count < text.count { truncatedText = true }
        scanned += piece.count
        sink.text(piece, part: part)
    }
}
