// Images through OCR (profiles with `ocr: true`): an image part or member,
// or a PDF page without a text layer, is read with Tesseract (ImageText)
// within the message's bounds — images per message, pixels per image, OCR
// time per message — and its text is scanned like any other, with a path
// that says where it came from: "scan.png (image)", "scan.pdf/page 3 (image)",
// "report.docx/word/media/image1.png (image)". Past a bound, or when an
// image cannot be decoded, the part is `unscannable` with the reason.

import Foundation
import SluiceCore

extension DocumentExtractor {
    /// An encoded image (png, jpeg, gif, tiff, bmp, webp).
    mutating func readImage<S: DocumentSink>(_ bytes: ArraySlice<UInt8>, path: String, into sink: inout S) {
        guard let seconds = startImage(path: path, into: &sink) else { return }
        let started = Stopwatch()
        defer { ocrSeconds += started.seconds }
        do {
            let text = try ImageText.read(bytes, maxPixels: limits.maxImagePixels, seconds: seconds)
            emit(text[...], path: "\(path) (image)", pdf: true, into: &sink)
        } catch {
            report(error, path: path, into: &sink)
        }
    }

    /// A PDF page with no text layer, rendered and read as an image.
    mutating func readPage<S: DocumentSink>(_ page: Int, of document: PDFDocument, path: String, into sink: inout S) {
        guard let seconds = startImage(path: path, into: &sink) else { return }
        let started = Stopwatch()
        defer { ocrSeconds += started.seconds }
        do {
            let dpi = limits.pdfRenderDPI
            let text = try document.withGreyPixels(ofPage: page, dpi: dpi, maxPixels: limits.maxImagePixels) {
                grey, width, height throws(ImageText.Failure) in
                try ImageText.read(grey: grey, width: width, height: height, resolution: dpi, seconds: seconds)
            }
            emit(text[...], path: "\(path) (image)", pdf: true, into: &sink)
            sink.read(path: "\(path) (image)", as: "pdf page rendered (OCR)", seconds: started.seconds)
        } catch {
            report(error, path: path, into: &sink)
        }
    }

    /// Counts the image; the OCR time left for it, or nil (reported) when the message's bounds are spent.
    private mutating func startImage<S: DocumentSink>(path: String, into sink: inout S) -> Double? {
        images += 1
        if images > limits.maxImages {
            sink.unscannable(path: path, reason: .limits, detail: "more than \(limits.maxImages) images in the message; the first \(limits.maxImages) read")
            return nil
        }
        let left = limits.ocrSeconds - ocrSeconds
        guard left > 0.05 else {
            sink.unscannable(path: path, reason: .timeout, detail: "OCR took \(Int(limits.ocrSeconds)) s for this message; not read")
            return nil
        }
        return left
    }

    private func report<S: DocumentSink>(_ error: ImageText.Failure, path: String, into sink: inout S) {
        switch error {
        case .tooLarge(let w, let h):
            sink.unscannable(path: path, reason: .limits, detail: "image of \(w) x \(h) pixels (at most \(limits.maxImagePixels) are read)")
        case .undecodable:
            sink.unscannable(path: path, reason: .corrupt, detail: "image could not be decoded")
        case .timeout:
            sink.unscannable(path: path, reason: .timeout, detail: "OCR stopped after the message's \(Int(limits.ocrSeconds)) s")
        case .unavailable(let why):
            sink.unscannable(path: path, reason: .unsupported, detail: "OCR unavailable: \(why)")
        }
    }
}
