// ContentSniffer: what a part is, by its bytes (R-DLP-1). The declared type
// and file name are hints a sender controls; the first bytes decide whether a
// part is opened as a zip, gzip, PDF or legacy Office file, read as text (and
// in which encoding), or searched for printable runs as a binary.

enum ContentKind: Equatable, Sendable {
    case zip
    case gzip
    /// Another archive or compressed stream, opened with libarchive: tar, cpio, 7z, rar, ISO 9660, xz, bzip2, zstd, lz4.
    case archive(String)
    case pdf
    /// OLE2 compound file: legacy .doc/.xls/.ppt, and encrypted Office Open XML.
    case ole2
    case text(TextEncoding)
    /// An image Leptonica decodes for OCR: png, jpeg, gif, tiff, bmp, webp.
    case image(String)
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
        if let format = archiveFormat(head, bytes) { return .archive(format) }
        if head.starts(with: Array("%PDF-".utf8)) || (!strict && contains(head.prefix(1024), Array("%PDF-".utf8))) { return .pdf }
        if head.starts(with: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]) { return .ole2 }
        if let format = imageFormat(head) { return .image(format) }
        if head.starts(with: [0xff, 0xfe]) { return .text(.utf16LE) }
        if head.starts(with: [0xfe, 0xff]) { return .text(.utf16BE) }
        return looksLikeText(head) ? .text(.utf8) : .binary
    }

    /// The archive formats libarchive opens, by their magic bytes. A part whose bytes say "archive" is opened, or
    /// reported unscannable: never left to its printable runs alone.
    static func archiveFormat(_ head: [UInt8], _ bytes: some Collection<UInt8>) -> String? {
        let magics: [(String, [UInt8])] = [
            ("7z", [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
            ("xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
            ("zstd", [0x28, 0xb5, 0x2f, 0xfd]),
            ("lz4", [0x04, 0x22, 0x4d, 0x18]),
            ("rar", Array("Rar!\u{1a}\u{07}".utf8)),
            ("cpio", Array("070707".utf8)), ("cpio", Array("070701".utf8)), ("cpio", Array("070702".utf8)),
            ("cpio", [0xc7, 0x71]), ("cpio", [0x71, 0xc7]),
        ]
        for (name, magic) in magics where head.starts(with: magic) { return name }
        if head.count > 4, head.starts(with: Array("BZh".utf8)), (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(head[3]) { return "bzip2" }
        // ustar, pax and GNU tar: "ustar" at offset 257 of the first header.
        if head.count >= 263, head[257..<262].elementsEqual("ustar".utf8) { return "tar" }
        // ISO 9660: "CD001" in the first volume descriptor, at 32 KiB + 1.
        if bytes.count > 32774, bytes.dropFirst(32769).prefix(5).elementsEqual("CD001".utf8) { return "iso" }
        return nil
    }

    /// The image formats OCR reads, by their magic bytes.
    static func imageFormat(_ head: [UInt8]) -> String? {
        if head.starts(with: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) { return "png" }
        if head.starts(with: [0xff, 0xd8, 0xff]) { return "jpeg" }
        if head.starts(with: Array("GIF87a".utf8)) || head.starts(with: Array("GIF89a".utf8)) { return "gif" }
        if head.starts(with: [0x49, 0x49, 0x2a, 0x00]) || head.starts(with: [0x4d, 0x4d, 0x00, 0x2a]) { return "tiff" }
        if head.count >= 12, head.starts(with: Array("RIFF".utf8)), head[8..<12].elementsEqual("WEBP".utf8) { return "webp" }
        // "BM" alone is too weak: the DIB header that follows has one of a few sizes.
        if head.count >= 18, head.starts(with: Array("BM".utf8)), [12, 40, 52, 56, 64, 108, 124].contains(Int(head[14]) | Int(head[15]) << 8),
            head[16] == 0, head[17] == 0
        {
            return "bmp"
        }
        return nil
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
