// ImageText: the text in an image, read with Tesseract (OCR) for DLP
// profiles that ask for it (`ocr: true`). An image's size is read from its
// header before anything is decoded, so a picture that would decode to
// 50,000 x 50,000 pixels is `limits`, not an out-of-memory; recognition has
// a deadline (Tesseract's monitor), past which it is `timeout`. Leptonica
// decodes PNG, JPEG, GIF, TIFF, BMP and WebP; a PDF page without a text
// layer is rendered by Poppler (see PDFText) and read the same way.
// Tesseract's engines take ~100 ms and 20 MB to load English: they are
// kept in a small pool and reused, one per concurrent recognition.

import CTesseract
import Foundation
import SluiceCore
import NIOConcurrencyHelpers

enum ImageText {
    enum Failure: Error, Equatable {
        /// Larger than the pixel bound (width, height).
        case tooLarge(Int, Int)
        case undecodable
        case timeout
        /// Tesseract or its English data is missing.
        case unavailable(String)
    }

    /// Leptonica prints its errors on stderr, which is the daemon's log: silenced before its first call.
    private static let quiet: Void = sluice_lept_quiet()

    /// Width and height from the image's header, nothing decoded; nil when Leptonica does not know the format.
    static func dimensions(_ bytes: ArraySlice<UInt8>) -> (width: Int, height: Int)? {
        _ = quiet
        var format: Int32 = 0
        var w: Int32 = 0
        var h: Int32 = 0
        var bps: Int32 = 0
        var spp: Int32 = 0
        var cmap: Int32 = 0
        let ok = bytes.withUnsafeBufferPointer { pixReadHeaderMem($0.baseAddress, $0.count, &format, &w, &h, &bps, &spp, &cmap) }
        return ok == 0 && w > 0 && h > 0 ? (Int(w), Int(h)) : nil
    }

    /// The text of an encoded image (PNG, JPEG, GIF, TIFF, BMP, WebP).
    static func read(_ bytes: ArraySlice<UInt8>, maxPixels: Int, seconds: Double) throws(Failure) -> [UInt8] {
        guard let (w, h) = dimensions(bytes) else { throw .undecodable }
        guard w * h <= maxPixels else { throw .tooLarge(w, h) }
        var pix = bytes.withUnsafeBufferPointer { pixReadMem($0.baseAddress, $0.count) }
        defer { pixDestroy(&pix) }
        guard let image = pix else { throw .undecodable }
        return try recognize(image, seconds: seconds)
    }

    /// The text of 8-bit grey pixels (`rows` of `width` bytes each), as PDFText renders a page.
    static func read(grey: UnsafeBufferPointer<UInt8>, width: Int, height: Int, resolution: Int, seconds: Double) throws(Failure) -> [UInt8] {
        _ = quiet
        var created = pixCreate(Int32(width), Int32(height), 8)
        defer { pixDestroy(&created) }
        guard let pix = created else { throw .undecodable }
        pixSetResolution(pix, Int32(resolution), Int32(resolution))
        let wpl = Int(pixGetWpl(pix))
        let data = UnsafeMutableRawPointer(pixGetData(pix)!).assumingMemoryBound(to: UInt8.self)
        for y in 0..<height {
            let line = data + y * wpl * 4
            // Leptonica keeps the bytes of each 32-bit word in big-endian order.
            for x in 0..<width { line[x ^ 3] = grey[y * width + x] }
        }
        return try recognize(pix, seconds: seconds)
    }

    private static func recognize(_ pix: UnsafeMutablePointer<PIX>, seconds: Double) throws(Failure) -> [UInt8] {
        let engine = try Engines.shared.borrow()
        defer { Engines.shared.giveBack(engine) }
        TessBaseAPISetImage2(engine, pix)
        if pixGetXRes(pix) <= 0 { TessBaseAPISetSourceResolution(engine, 300) }
        let monitor = TessMonitorCreate()
        defer { TessMonitorDelete(monitor) }
        TessMonitorSetDeadlineMSecs(monitor, Int32(max(1, min(seconds, 600)) * 1000))
        let started = Stopwatch()
        let status = TessBaseAPIRecognize(engine, monitor)
        defer { TessBaseAPIClear(engine) }
        if started.seconds >= seconds { throw .timeout }
        guard status == 0, let text = TessBaseAPIGetUTF8Text(engine) else { throw .undecodable }
        defer { TessDeleteText(text) }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text)))
    }

    /// Initialised Tesseract engines not in use (at most `limit` kept).
    final class Engines: @unchecked Sendable {
        static let shared = Engines()
        private let free = NIOLockedValueBox<[OpaquePointer]>([])
        private static let limit = 4

        func borrow() throws(Failure) -> OpaquePointer {
            if let engine = free.withLockedValue({ $0.popLast() }) { return engine }
            guard let engine = TessBaseAPICreate() else { throw .unavailable("Tesseract could not start") }
            // Tesseract's own chatter (resolution estimates, warnings) is not Sluice's log.
            _ = TessBaseAPISetVariable(engine, "debug_file", "/dev/null")
            guard TessBaseAPIInit3(engine, nil, "eng") == 0 else {
                TessBaseAPIDelete(engine)
                throw .unavailable("Tesseract has no English data (Debian: tesseract-ocr-eng)")
            }
            return engine
        }

        func giveBack(_ engine: OpaquePointer) {
            let kept = free.withLockedValue { engines in
                guard engines.count < Self.limit else { return false }
                engines.append(engine)
                return true
            }
            if !kept { TessBaseAPIDelete(engine) }
        }
    }
}
