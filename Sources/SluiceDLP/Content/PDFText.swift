// PDFText: the text of a PDF, page by page, through Poppler (libpoppler-glib),
// which decodes every stream filter, font encoding and cross-reference form
// the format has. One PDFDocument owns Poppler's handle and frees it; pages
// are read within a page and time budget, past which the document is
// `unscannable: timeout` or `limits`. Called from the inspect stage, which
// runs off the event loops; Poppler's documents are independent, so separate
// messages are read in parallel.

import CPoppler
import Foundation

final class PDFDocument {
    enum OpenError: Error {
        case encrypted
        case corrupt(String)
    }

    let handle: OpaquePointer

    init(_ bytes: ArraySlice<UInt8>) throws(OpenError) {
        let data = bytes.withUnsafeBytes { g_bytes_new($0.baseAddress, gsize($0.count)) }
        defer { g_bytes_unref(data) }
        var error: UnsafeMutablePointer<GError>?
        guard let doc = poppler_document_new_from_bytes(data, nil, &error) else {
            defer { g_error_free(error) }
            let code = error?.pointee.code ?? -1
            if error?.pointee.domain == sluice_poppler_error_quark(), code == Int32(POPPLER_ERROR_ENCRYPTED.rawValue) { throw .encrypted }
            throw .corrupt(error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "Poppler could not open it")
        }
        handle = doc
    }

    deinit { g_object_unref(UnsafeMutableRawPointer(handle)) }

    var pageCount: Int { Int(poppler_document_get_n_pages(handle)) }

    /// The text of page `index` (from 0), lines ended by "\n".
    func text(ofPage index: Int) -> [UInt8] {
        guard let page = poppler_document_get_page(handle, Int32(index)) else { return [] }
        defer { g_object_unref(UnsafeMutableRawPointer(page)) }
        guard let text = poppler_page_get_text(page) else { return [] }
        defer { g_free(text) }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: strlen(text)))
    }
}

extension PDFDocument {
    /// Page `index` rendered on white at `dpi`, as 8-bit grey pixels (rows of `width` bytes), handed to `body`;
    /// a page that would exceed `maxPixels` is `tooLarge` without being rendered.
    func withGreyPixels<T>(
        ofPage index: Int, dpi: Int, maxPixels: Int, _ body: (UnsafeBufferPointer<UInt8>, Int, Int) throws(ImageText.Failure) -> T
    ) throws(ImageText.Failure) -> T {
        guard let page = poppler_document_get_page(handle, Int32(index)) else { throw .undecodable }
        defer { g_object_unref(UnsafeMutableRawPointer(page)) }
        var w = 0.0
        var h = 0.0
        poppler_page_get_size(page, &w, &h)
        let scale = Double(dpi) / 72
        let width = Int((w * scale).rounded(.up))
        let height = Int((h * scale).rounded(.up))
        guard width > 0, height > 0, width < 1 << 20, height < 1 << 20 else { throw .undecodable }
        guard width * height <= maxPixels else { throw .tooLarge(width, height) }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else { throw .undecodable }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw .undecodable }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_scale(cr, scale, scale)
        poppler_page_render(page, cr)
        cairo_destroy(cr)
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { throw .undecodable }
        let stride = Int(cairo_image_surface_get_stride(surface))
        var grey = [UInt8](repeating: 255, count: width * height)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width {
                let p = row[x]  // 0x00RRGGBB in native order
                let r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff
                grey[y * width + x] = UInt8((r * 299 + g * 587 + b * 114) / 1000)
            }
        }
        return try grey.withUnsafeBufferPointer { buffer throws(ImageText.Failure) in try body(buffer, width, height) }
    }
}
