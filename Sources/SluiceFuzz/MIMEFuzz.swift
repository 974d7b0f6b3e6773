// MIMEFuzz: arbitrary bytes as a message through the DLP scanner: the
// streaming MIME walker (headers, multipart, RFC 2047/2231, transfer
// decodings, charsets, HTML, zip), every predefined detector on one
// vectorscan database, and validation. The scanner is built once.

import SluiceDLP

public enum MIMEFuzz {
    static let scanner: DLPScanner = {
        var book = DLPBook()
        book.detectors = Detector.predefined.keys.sorted().map { Detector.predefined[$0]! }
        book.profiles["all"] = DLPProfile(name: "all", detectors: Detector.predefined.keys.sorted() + ["zip_bomb"])
        return try! DLPScanner(book: book)  // fixed input: a failure here is a bug in the predefined set
    }()

    public static func run(_ data: UnsafeRawBufferPointer) {
        _ = try? scanner.scan(Array(data))
    }
}
