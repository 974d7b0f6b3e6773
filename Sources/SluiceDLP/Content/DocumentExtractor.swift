// DocumentExtractor: the text of an attachment, whatever it is (R-DLP-1).
// Its bytes decide (ContentSniffer): zip archives, Office Open XML and
// OpenDocument files are opened member by member (XML members streamed
// through XMLText, others opened in turn), gzip is inflated, PDFs are read
// page by page with Poppler, text is text (UTF-8 or UTF-16), and anything
// else gives its printable runs. Every container is bounded (ContentLimits);
// what cannot be read in full is reported `unscannable` with its reason and
// path, never skipped in silence. Paths name where text came from:
// "cards.zip/q3/report.docx/word/document.xml", "card.pdf/page 2".

import Foundation
import SluiceCore

protocol DocumentSink {
    /// Text from `path`, in pieces ending at a line break where possible; `pdf`: a PDF page's layout text.
    mutating func text(_ bytes: [UInt8], path: String, pdf: Bool)
    mutating func endOfText(path: String)
    /// A file inside a container (a zip entry, a gzip's content): listed as an attachment.
    mutating func member(path: String)
    mutating func unscannable(path: String, reason: UnscannableReason, detail: String)
    /// How the document or member at `path` was read, and how long it took (with its members).
    mutating func read(path: String, as how: String, seconds: Double)
    /// No more text is wanted (the scan's byte budget is spent): extraction stops early.
    var isFull: Bool { get }
}

struct DocumentExtractor {
    let limits: ContentLimits
    /// Off: containers are only listed (attachment names for rules), nothing is read.
    let readText: Bool
    var expanded = 0
    var members = 0
    /// Set by a bomb: nothing more of this document is opened (42.zip holds thousands of them).
    var abandoned = false
    /// Images read by OCR in this message, and the time it took (DocumentExtractor+OCR).
    var images = 0
    var ocrSeconds = 0.0

    init(limits: ContentLimits, readText: Bool) {
        self.limits = limits
        self.readText = readText
    }

    static let piece = 64 * 1024

    mutating func extract<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, depth: Int = 0, into sink: inout S) {
        if depth == 0 { abandoned = false }
        guard !abandoned else { return }
        let kind = ContentSniffer.kind(of: bytes)
        let started = Stopwatch()
        defer { sink.read(path: path, as: readingName(kind), seconds: started.seconds) }
        switch kind {
        case .zip: openZip(Array(bytes), path: path, depth: depth, into: &sink)
        case .gzip: openGzip(bytes, path: path, depth: depth, into: &sink)
        case .archive(let format): openArchive(bytes, format: format, path: path, depth: depth, into: &sink)
        case .pdf where readText && limits.readPDF: readPDF(bytes, path: path, into: &sink)
        case .ole2 where readText:
            // Encrypted Office Open XML travels in an OLE2 file whose stream is named EncryptedPackage.
            if ContentSniffer.contains(bytes, Array("EncryptedPackage".utf16.flatMap { [UInt8($0), 0] })) {
                sink.unscannable(path: path, reason: .encrypted, detail: "password-protected Office document")
            } else {
                strings(bytes, path: path, into: &sink)
            }
        case .text(let encoding) where readText: text(bytes, encoding: encoding, path: path, into: &sink)
        case .image where readText && limits.ocr: readImage(bytes, path: path, into: &sink)
        case .binary where readText, .image where readText: strings(bytes, path: path, into: &sink)
        default: return
        }
    }

    /// How a part of this kind is read, as `sluice dlp scan --json` shows it.
    func readingName(_ kind: ContentKind) -> String {
        switch kind {
        case .zip: return "zip"
        case .gzip: return "gzip"
        case .archive(let format): return format
        case .pdf: return readText && limits.readPDF ? "pdf" : "not read"
        case .ole2: return readText ? "ole2 (printable runs)" : "not read"
        case .text: return readText ? "text" : "not read"
        case .image(let format): return readText ? (limits.ocr ? "\(format) (OCR)" : "\(format) (printable runs)") : "not read"
        case .binary: return readText ? "printable runs" : "not read"
        }
    }

    // MARK: text

    private func text<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, encoding: TextEncoding, path: String, into sink: inout S) {
        switch encoding {
        case .utf8: emit(bytes, path: path, into: &sink)
        case .utf16LE, .utf16BE:
            let units = stride(from: bytes.startIndex + 2, to: bytes.endIndex - 1, by: 2).map { i in
                encoding == .utf16LE ? UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 : UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
            }
            emit(Array(String(decoding: units, as: UTF16.self).utf8)[...], path: path, into: &sink)
        }
    }

    func strings<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, into sink: inout S) {
        var out: [UInt8] = []
        PrintableRuns.extract(bytes, minimum: limits.minPrintableRun, into: &out)
        emit(out[...], path: path, into: &sink)
    }

    /// Text in pieces of about 64 KiB, cut after a line break so that a value is not split.
    func emit<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, pdf: Bool = false, into sink: inout S) {
        var start = bytes.startIndex
        while start < bytes.endIndex && !sink.isFull {
            var end = min(bytes.endIndex, start + Self.piece)
            if end < bytes.endIndex, let nl = bytes[start..<end].lastIndex(of: 10), nl > start { end = nl + 1 }
            sink.text(Array(bytes[start..<end]), path: path, pdf: pdf)
            start = end
        }
        sink.endOfText(path: path)
    }

    // MARK: containers

    /// The budget check for one member being inflated: nil while it is within bounds.
    func overrun(produced: Int, packed: Int, declared: Int = 0) -> (UnscannableReason, String)? {
        if declared > 0 && produced > declared {
            return (.bomb, "expands past its declared \(declared) bytes")
        }
        if produced > limits.ratioFloor && produced > packed * limits.maxRatio {
            return (.bomb, "\(packed) bytes expand past \(produced) (over \(limits.maxRatio):1)")
        }
        if expanded + produced > limits.maxExpandedBytes {
            return (.limits, "containers expand past \(limits.maxExpandedBytes >> 20) MiB")
        }
        if produced > limits.maxDocumentBytes {
            return (.limits, "a member larger than \(limits.maxDocumentBytes >> 20) MiB")
        }
        return nil
    }

    private mutating func openZip<S: DocumentSink>(_ zip: [UInt8], path: String, depth: Int, into sink: inout S) {
        guard depth < limits.maxDepth else {
            sink.unscannable(path: path, reason: .limits, detail: "nested deeper than \(limits.maxDepth) containers")
            return
        }
        let entries: [ZipEntry]
        do {
            entries = try ZipDirectory.entries(zip, limit: limits.maxMembers - members + 1)
        } catch .zip64 {
            sink.unscannable(path: path, reason: .unsupported, detail: "zip64 archive")
            return
        } catch {
            sink.unscannable(path: path, reason: .corrupt, detail: "no readable zip directory (truncated or damaged)")
            return
        }
        for entry in entries where !abandoned {
            if readText && sink.isFull { return }
            let memberPath = "\(path)/\(entry.name)"
            members += 1
            guard members <= limits.maxMembers else {
                sink.unscannable(path: path, reason: .limits, detail: "more than \(limits.maxMembers) members")
                return
            }
            let isXML = Self.isXMLMember(entry.name)
            if !isXML { sink.member(path: memberPath) }
            if isXML && Self.isLayoutPart(entry.name) { continue }
            if entry.isEncrypted {
                sink.unscannable(path: memberPath, reason: .encrypted, detail: "encrypted zip entry")
                continue
            }
            if entry.isZip64 {
                sink.unscannable(path: memberPath, reason: .unsupported, detail: "zip64 entry")
                continue
            }
            guard entry.method == 0 || entry.method == 8 else {
                sink.unscannable(path: memberPath, reason: .unsupported, detail: "compression method \(entry.method)")
                continue
            }
            if entry.size > limits.ratioFloor && entry.size > max(1, entry.packedSize) * limits.maxRatio {
                // Its own directory says so: not even started.
                give((.bomb, "\(entry.packedSize) bytes declare \(entry.size) (over \(limits.maxRatio):1)"), path: memberPath, into: &sink)
                continue
            }
            guard let packed = ZipDirectory.packedData(entry, in: zip) else {
                sink.unscannable(path: memberPath, reason: .corrupt, detail: "entry data missing (truncated archive)")
                continue
            }
            if isXML {
                guard readText else { continue }
                streamXML(packed, deflated: entry.method == 8, declared: entry.size, path: memberPath, into: &sink)
            } else if !readText && !Self.mayHoldFiles(entry.name) {
                continue  // only names are wanted, and this member holds none
            } else if let data = unpack(packed, format: entry.method == 8 ? .raw : nil, declared: entry.size, path: memberPath, into: &sink) {
                extract(data[...], path: memberPath, depth: depth + 1, into: &sink)
            }
        }
    }

    /// A member whose own members' names count when only names are wanted.
    static func mayHoldFiles(_ name: String) -> Bool {
        let lower = name.lowercased()
        return [
            ".zip", ".gz", ".tgz", ".jar", ".tar", ".tbz", ".tbz2", ".txz", ".tzst", ".7z", ".xz", ".bz2", ".zst", ".lz4", ".cpio",
            ".rar", ".iso",
        ].contains { lower.hasSuffix($0) }
    }

    /// The XML parts of Office Open XML and OpenDocument files (and any XML in an archive).
    static func isXMLMember(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".xml") || lower.hasSuffix(".rels") || lower.hasSuffix(".vml")
    }

    /// Office Open XML parts that describe layout, not content: styles, themes, fonts, settings,
    /// numbering, relationships, slide layouts and masters. Office shows no text from them, and
    /// they are most of a small document's bytes (a new .docx holds 800 KB of styles), so they
    /// are not read. ODF's styles.xml holds headers and footers and is read.
    static func isLayoutPart(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower.hasSuffix(".rels") || lower == "[content_types].xml" { return true }
        let file = lower.split(separator: "/").last.map(String.init) ?? lower
        let folder = lower.split(separator: "/").dropLast().last.map(String.init) ?? ""
        guard ["word", "xl", "ppt", "theme", "slidelayouts", "slidemasters", "notesmasters", "handoutmasters"].contains(folder) else {
            return false
        }
        if ["theme", "slidelayouts", "slidemasters", "notesmasters", "handoutmasters"].contains(folder) { return true }
        let layout = [
            "styles.xml", "styleswitheffects.xml", "fonttable.xml", "settings.xml", "websettings.xml", "numbering.xml",
            "presprops.xml", "viewprops.xml", "tablestyles.xml", "calcchain.xml",
        ]
        return layout.contains(file)
    }

    /// An XML member's text, inflated and stripped piece by piece: never the whole member in memory.
    private mutating func streamXML<S: DocumentSink>(
        _ packed: ArraySlice<UInt8>, deflated: Bool, declared: Int, path: String, into sink: inout S
    ) {
        var xml = XMLText()
        var produced = 0
        var failure: (UnscannableReason, String)?
        if deflated {
            let outcome = Inflater.inflate(packed, format: .raw) { piece in
                produced += piece.count
                if let over = overrun(produced: produced, packed: packed.count, declared: declared) {
                    failure = over
                    return false
                }
                xml.feed(piece)
                let lines = xml.take()
                if !lines.isEmpty { sink.text(lines, path: path, pdf: false) }
                return !sink.isFull
            }
            if outcome == .corrupt { failure = (.corrupt, "damaged deflate data") }
        } else {
            produced = packed.count
            xml.feed(Array(packed))
        }
        expanded += produced
        let rest = xml.take(all: true)
        if !rest.isEmpty { sink.text(rest, path: path, pdf: false) }
        sink.endOfText(path: path)
        if let failure { give(failure, path: path, into: &sink) }
    }

    mutating func give<S: DocumentSink>(_ failure: (UnscannableReason, String), path: String, into sink: inout S) {
        if failure.0 == .bomb || failure.0 == .limits { abandoned = true }
        sink.unscannable(path: path, reason: failure.0, detail: failure.1)
    }

    /// A member's bytes, inflated within the limits; nil (and the reason given) when it cannot be.
    private mutating func unpack<S: DocumentSink>(
        _ packed: ArraySlice<UInt8>, format: Inflater.Format?, declared: Int = 0, path: String, into sink: inout S
    ) -> [UInt8]? {
        guard let format else {
            guard overrun(produced: packed.count, packed: packed.count) == nil else {
                sink.unscannable(path: path, reason: .limits, detail: "containers expand past \(limits.maxExpandedBytes >> 20) MiB")
                return nil
            }
            expanded += packed.count
            return Array(packed)
        }
        var out: [UInt8] = []
        var failure: (UnscannableReason, String)?
        let outcome = Inflater.inflate(packed, format: format) { piece in
            if let over = overrun(produced: out.count + piece.count, packed: packed.count, declared: declared) {
                failure = over
                return false
            }
            out += piece
            return true
        }
        expanded += out.count
        if let failure {
            give(failure, path: path, into: &sink)
            return nil
        }
        if outcome == .corrupt {
            sink.unscannable(path: path, reason: .corrupt, detail: format == .gzip ? "damaged or truncated gzip data" : "damaged deflate data")
            return nil
        }
        return out
    }

    private mutating func openGzip<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, depth: Int, into sink: inout S) {
        guard depth < limits.maxDepth else {
            sink.unscannable(path: path, reason: .limits, detail: "nested deeper than \(limits.maxDepth) containers")
            return
        }
        members += 1
        let inner = "\(path)/\(Self.gzipName(bytes) ?? Self.withoutGzipSuffix(path))"
        sink.member(path: inner)
        guard let data = unpack(bytes, format: .gzip, path: inner, into: &sink) else { return }
        extract(data[...], path: inner, depth: depth + 1, into: &sink)
    }

    /// The original file name a gzip header carries (FNAME, RFC 1952 §2.3.1).
    static func gzipName(_ b: ArraySlice<UInt8>) -> String? {
        let s = b.startIndex
        guard b.count > 10, b[s + 3] & 0x08 != 0 else { return nil }
        var i = s + 10
        if b[s + 3] & 0x04 != 0 {
            guard i + 2 <= b.endIndex else { return nil }
            i += 2 + Int(b[i]) | Int(b[i + 1]) << 8
        }
        guard i < b.endIndex, let end = b[i...].prefix(1024).firstIndex(of: 0), end > i else { return nil }
        let name = String(decoding: b[i..<end], as: UTF8.self)
        return name.split(separator: "/").last.map(String.init)
    }

    static func withoutGzipSuffix(_ path: String) -> String {
        let last = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".tgz", ".gz", ".gzip"] where last.lowercased().hasSuffix(suffix) {
            return String(last.dropLast(suffix.count)) + (suffix == ".tgz" ? ".tar" : "")
        }
        return last + ".ungzipped"
    }

    // MARK: PDF

    private mutating func readPDF<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, into sink: inout S) {
        let document: PDFDocument
        do {
            document = try PDFDocument(bytes)
        } catch {
            switch error {
            case .encrypted: sink.unscannable(path: path, reason: .encrypted, detail: "password-protected PDF")
            case .corrupt(let why): sink.unscannable(path: path, reason: .corrupt, detail: "PDF: \(why)")
            }
            return
        }
        let pages = document.pageCount
        guard pages > 0 else {
            sink.unscannable(path: path, reason: .corrupt, detail: "PDF with no readable page")
            return
        }
        let started = Stopwatch()
        for page in 0..<min(pages, limits.maxPDFPages) where !sink.isFull {
            if started.seconds > limits.pdfSeconds {
                sink.unscannable(path: path, reason: .timeout, detail: "PDF read for \(Int(limits.pdfSeconds)) s, stopped at page \(page + 1) of \(pages)")
                return
            }
            let text = document.text(ofPage: page)
            if limits.ocr && text.allSatisfy({ $0 == 32 || $0 == 10 || $0 == 13 || $0 == 9 || $0 == 12 }) {
                // No text layer (a scan): the page as an image.
                readPage(page, of: document, path: "\(path)/page \(page + 1)", into: &sink)
            } else if !text.isEmpty {
                emit(text[...], path: "\(path)/page \(page + 1)", pdf: true, into: &sink)
            }
        }
        if pages > limits.maxPDFPages {
            sink.unscannable(path: path, reason: .limits, detail: "\(pages) pages, the first \(limits.maxPDFPages) read")
        }
    }
}
