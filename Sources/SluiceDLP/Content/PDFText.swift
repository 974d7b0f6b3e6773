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

    private let handle: OpaquePointer

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
