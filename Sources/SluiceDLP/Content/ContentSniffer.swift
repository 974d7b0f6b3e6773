// ContentSniffer: what a part is, by its bytes (R-DLP-1). The declared type
// and file name are hints a sender controls; the first bytes decide whether a
// part is opened as a zip, gzip, PDF or legacy Office file, read as text (and
// in which encoding), or searched for printable runs as a binary.

enum ContentKind: Equatable, Sendable {
    case zip
    case gzip
    case pdf
    /// OLE2 compound file: legacy .doc/.xls/.ppt, and encrypted Office Open XML.
    case ole2
    case text(TextEncoding)
    case binary
}

enum TextEncoding: Equatable, Sendable {
    case utf8
    case utf16LE
    case utf16BE
}

enum ContentSniffer {
    /// `strict`: magic only at the very start (a part declared as text: a message that quotes "%PDF-1.7"
    /// in its first lines is still text); else a PDF header may follow up to 1 KiB of junk, as readers allow.
    static func kind(of bytes: some Collection<UInt8>, strict: Bool = false) -> ContentKind {
        let head = Array(bytes.prefix(8192))
        if ZipDirectory.isZip(head) { return .zip }
        if head.starts(with: [0x1f, 0x8b]) { return .gzip }
        if head.starts(with: Array("%PDF-".utf8)) || (!strict && contains(head.prefix(1024), Array("%PDF-".utf8))) { return .pdf }
        if head.starts(with: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) { return .ole2 }
        if head.starts(with: [0xff, 0xfe]) { return .text(.utf16LE) }
        if head.starts(with: [0xfe, 0xff]) { return .text(.utf16BE) }
        return looksLikeText(head) ? .text(.utf8) : .binary
    }

    /// Text: no NUL, and almost no control bytes other than tab, line ends and form feed.
    static func looksLikeText(_ head: [UInt8]) -> Bool {
        var control = 0
        for b in head {
            if b == 0 { return false }
            if b < 32 && b != 9 && b != 10 && b != 13 && b != 12 && b != 27 { control += 1 }
        }
        return control * 100 <= head.count
    }

    static func contains(_ hay: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard hay.count >= needle.count else { return false }
        var i = hay.startIndex
        while i + needle.count <= hay.endIndex {
            if hay[i] == needle[0], hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
