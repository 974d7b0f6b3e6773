// The pieces that read attachments by their bytes: the sniffer, the XML text
// of Office documents (runs joined, entities and CDATA decoded, whatever the
// piece boundaries), printable runs of binaries, gzip names, and the
// extractor's bounds, on inputs built here.

import XCTest

@testable import SluiceDLP
import SluiceCore

final class ContentExtractionTests: XCTestCase {
    func testKindIsDecidedByTheBytes() {
        XCTAssertEqual(ContentSniffer.kind(of: Array("PK\u{3}\u{4}rest".utf8)), .zip)
        XCTAssertEqual(ContentSniffer.kind(of: [0x1f, 0x8b, 8, 0]), .gzip)
        XCTAssertEqual(ContentSniffer.kind(of: Array("%PDF-1.7\n".utf8)), .pdf)
        XCTAssertEqual(ContentSniffer.kind(of: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]), .ole2)
        XCTAssertEqual(ContentSniffer.kind(of: [0xff, 0xfe, 65, 0]), .text(.utf16LE))
        XCTAssertEqual(ContentSniffer.kind(of: Array("plain words\r\n\ttabbed".utf8)), .text(.utf8))
        XCTAssertEqual(ContentSniffer.kind(of: [1, 2, 3, 0, 200, 201]), .binary)
        XCTAssertEqual(ContentSniffer.kind(of: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]), .archive("7z"))
        XCTAssertEqual(ContentSniffer.kind(of: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 4]), .archive("xz"))
        XCTAssertEqual(ContentSniffer.kind(of: [0x28, 0xb5, 0x2f, 0xfd, 0x24]), .archive("zstd"))
        XCTAssertEqual(ContentSniffer.kind(of: Array("BZh91AY&SY".utf8)), .archive("bzip2"))
        XCTAssertEqual(ContentSniffer.kind(of: Array("070701000A".utf8)), .archive("cpio"))
        XCTAssertEqual(ContentSniffer.kind(of: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), .image("png"))
        XCTAssertEqual(ContentSniffer.kind(of: [0xff, 0xd8, 0xff, 0xe0, 0]), .image("jpeg"))
        XCTAssertEqual(ContentSniffer.kind(of: Array("GIF89a\u{1}\u{0}".utf8)), .image("gif"))
        XCTAssertEqual(ContentSniffer.kind(of: Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)), .image("webp"))
        XCTAssertEqual(ContentSniffer.kind(of: [0x42, 0x4d, 0, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 1]), .image("bmp"))
        XCTAssertEqual(ContentSniffer.kind(of: Array("BMW drivers, please read this".utf8)), .text(.utf8), "BM alone is no bitmap")
        var tarHeader = [UInt8](repeating: 0, count: 512)
        tarHeader.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        XCTAssertEqual(ContentSniffer.kind(of: Array("cards.txt".utf8) + tarHeader.dropFirst(9)), .archive("tar"))
        let quoting = Array("The file starts with %PDF-1.7 and then binary.\n".utf8)
        XCTAssertEqual(ContentSniffer.kind(of: quoting), .pdf, "an attachment: a PDF header may follow junk")
        XCTAssertEqual(ContentSniffer.kind(of: quoting, strict: true), .text(.utf8), "a text part that mentions a PDF header is text")
    }

    /// Fed one byte at a time, so every state crosses a piece boundary.
    func xmlText(_ xml: String, bytewise: Bool = true) -> String {
        var x = XMLText()
        if bytewise { for b in xml.utf8 { x.feed([b]) } } else { x.feed(Array(xml.utf8)) }
        return String(decoding: x.take(all: true), as: UTF8.self)
    }

    func testRunsOfOneParagraphAreJoinedAndParagraphsEndLines() {
        let word = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
            <w:p><w:r><w:t>Card 4111 1111 </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>1111 1111</w:t></w:r></w:p>
            <w:p><w:r><w:t xml:space="preserve">a </w:t><w:tab/><w:t>b</w:t></w:r></w:p></w:body></w:document>
            """
        XCTAssertEqual(xmlText(word), "Card 4111 1111 1111 1111\na  b\n")
        XCTAssertEqual(xmlText(word, bytewise: false), xmlText(word))
    }

    func testEntitiesCDATACommentsAndODFSpaces() {
        XCTAssertEqual(xmlText("<si><t>A &amp; B &lt;x&gt; &#52;&#x31;11</t></si>"), "A & B <x> 4111\n")
        XCTAssertEqual(xmlText("<p><!-- 4111 1111 1111 1111 --><t><![CDATA[x<y]]></t></p>"), "x<y\n")
        XCTAssertEqual(xmlText("<text:p>one<text:s/>two<text:tab/>three</text:p>"), "one two three\n")
        XCTAssertEqual(xmlText("<c r=\"A1\" t=\"n\"><v>4111111111111111</v></c><c><v>2</v></c>"), "4111111111111111\n2\n")
        XCTAssertEqual(xmlText("<p>broken &entity without end <b>x</b></p>"), "broken &entity without end x\n")
    }

    func testPrintableRunsFindTextInBinaryBytes() {
        var out: [UInt8] = []
        let key = "AKIAIOSFODNN7EXAMPLE"
        var utf16: [UInt8] = []
        for unit in "secret 4111 1111 1111 1111".utf16 { utf16 += [UInt8(unit), 0] }
        var blob: [UInt8] = [0, 1, 2, 255]
        blob += Array(key.utf8)
        blob += [0, 7, 200]
        blob += utf16
        blob += [3, 4]
        blob += Array("héllo wörld".utf8)
        blob += [0, 1, 0x41, 0x42]
        PrintableRuns.extract(blob[...], minimum: 6, into: &out)
        let text = String(decoding: out, as: UTF8.self)
        XCTAssertTrue(text.contains(key + "\n"), text)
        XCTAssertTrue(text.contains("secret 4111 1111 1111 1111\n"), text)
        XCTAssertTrue(text.contains("héllo wörld\n"), text)
        XCTAssertFalse(text.contains("AB"), "runs shorter than the minimum are left out: \(text)")
    }

    func testGzipNamesComeFromTheHeaderOrTheFileName() {
        var header: [UInt8] = [0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3] + Array("dir/cards.csv".utf8) + [0]
        XCTAssertEqual(DocumentExtractor.gzipName(header[...]), "cards.csv")
        header[3] = 0
        XCTAssertNil(DocumentExtractor.gzipName(header[...]))
        XCTAssertEqual(DocumentExtractor.withoutGzipSuffix("a.zip/cards.txt.gz"), "cards.txt")
        XCTAssertEqual(DocumentExtractor.withoutGzipSuffix("backup.tgz"), "backup.tar")
    }

    /// A sink that keeps everything, for the extractor alone.
    struct Recorder: DocumentSink {
        var text: [String: String] = [:]
        var members: [String] = []
        var unscannable: [(String, UnscannableReason)] = []
        var reads: [String: String] = [:]
        var isFull: Bool { false }
        mutating func read(path: String, as how: String, seconds: Double) { reads[path] = how }
        mutating func text(_ bytes: [UInt8], path: String, pdf: Bool) { text[path, default: ""] += String(decoding: bytes, as: UTF8.self) }
        mutating func endOfText(path: String) {}
        mutating func member(path: String) { members.append(path) }
        mutating func unscannable(path: String, reason: UnscannableReason, detail: String) { unscannable.append((path, reason)) }
    }

    func testGzipInsideIsOpenedAndABadStreamIsCorrupt() throws {
        let gz = try XCTUnwrap(gzip(Array("Card 4111 1111 1111 1111\n".utf8)))
        var r = Recorder()
        var ex = DocumentExtractor(limits: ContentLimits(), readText: true)
        ex.extract(gz[...], path: "cards.txt.gz", into: &r)
        XCTAssertEqual(r.text["cards.txt.gz/cards.txt"], "Card 4111 1111 1111 1111\n")
        var broken = gz
        broken.removeLast(12)
        r = Recorder()
        ex.extract(broken[...], path: "cut.gz", into: &r)
        XCTAssertEqual(r.unscannable.map(\.1), [.corrupt])
    }

    /// tar(1) and xz(1) output, opened through libarchive; a cut stream is corrupt, not a silent hole.
    func testTarAndXzMembersAreOpenedAndACutStreamIsCorrupt() throws {
        let dir = NSTemporaryDirectory() + "sluice-tar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "Card 4111 1111 1111 1111\n".write(toFile: dir + "/cards.txt", atomically: true, encoding: .utf8)
        let tar = try XCTUnwrap(run("/bin/tar", ["-cf", "-", "-C", dir, "cards.txt"]))
        var r = Recorder()
        var ex = DocumentExtractor(limits: ContentLimits(), readText: true)
        ex.extract(tar[...], path: "cards.tar", into: &r)
        XCTAssertEqual(r.text["cards.tar/cards.txt"], "Card 4111 1111 1111 1111\n")
        XCTAssertEqual(r.members, ["cards.tar/cards.txt"])
        XCTAssertEqual(r.reads, ["cards.tar": "tar", "cards.tar/cards.txt": "text"], "how each was read")
        let xz = try XCTUnwrap(run("/usr/bin/xz", ["-c"], input: tar))
        r = Recorder()
        ex.extract(xz[...], path: "cards.tar.xz", into: &r)
        XCTAssertEqual(r.text["cards.tar.xz/cards.txt"], "Card 4111 1111 1111 1111\n")
        let bare = try XCTUnwrap(run("/usr/bin/xz", ["-c"], input: Array("Card 4111 1111 1111 1111\n".utf8)))
        r = Recorder()
        ex.extract(bare[...], path: "cards.txt.xz", into: &r)
        XCTAssertEqual(r.text["cards.txt.xz/cards.txt"], "Card 4111 1111 1111 1111\n")
        r = Recorder()
        ex.extract(xz.prefix(xz.count / 2), path: "cut.tar.xz", into: &r)
        XCTAssertEqual(r.unscannable.map(\.1), [.corrupt], "\(r.unscannable)")
    }

    func testLimitsOfDepthAndExpansion() throws {
        var limits = ContentLimits()
        limits.maxExpandedBytes = 1000
        var r = Recorder()
        var ex = DocumentExtractor(limits: limits, readText: true)
        ex.extract(try XCTUnwrap(gzip([UInt8](repeating: 65, count: 5000)))[...], path: "a.gz", into: &r)
        XCTAssertEqual(r.unscannable.map(\.1), [.limits])
        limits = ContentLimits()
        limits.maxDepth = 1
        r = Recorder()
        ex = DocumentExtractor(limits: limits, readText: true)
        ex.extract(try XCTUnwrap(gzip(try XCTUnwrap(gzip(Array("x".utf8)))))[...], path: "two.gz", into: &r)
        XCTAssertEqual(r.unscannable.map(\.1), [.limits])
    }

    /// A tool's standard output for `input`.
    func run(_ tool: String, _ arguments: [String], input: [UInt8] = []) -> [UInt8]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        guard (try? p.run()) != nil else { return nil }
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? [UInt8](out) : nil
    }

    /// gzip(1)'s output, through zlib's gzip mode.
    func gzip(_ data: [UInt8]) -> [UInt8]? { run("/bin/gzip", ["-c", "-n"], input: data) }
}
