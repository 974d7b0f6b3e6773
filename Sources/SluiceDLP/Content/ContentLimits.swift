// The bounds of document scanning (R-DLP-1): how deep containers nest, how
// many bytes they may expand to, how far one member may expand relative to
// its packed size, how many members are opened, and how long a PDF may take.
// Past any of them a part is `unscannable`, never silently skipped.

public struct ContentLimits: Sendable {
    /// Containers inside containers (a zip in a zip in a message is depth 2).
    public var maxDepth = 8
    /// Bytes unpacked from every container of one message together.
    public var maxExpandedBytes = 256 << 20
    /// One member may expand to this many times its packed size once it is past `ratioFloor` bytes.
    public var maxRatio = 250
    public var ratioFloor = 1 << 20
    /// Members opened across the message (zip entries, gzip streams).
    public var maxMembers = 10_000
    /// One attachment or member kept in memory to be opened (a zip needs its directory at the end).
    public var maxDocumentBytes = 64 << 20
    /// PDF pages read per document, and the time one PDF may take.
    public var maxPDFPages = 500
    public var pdfSeconds = 10.0
    /// Off: PDFs are not read (the archive's index leaves their text out; DLP reads them).
    public var readPDF = true
    /// Shortest run of printable characters taken from a binary part (as `strings -n`).
    public var minPrintableRun = 6
    /// OCR (a profile says `ocr: true`): images and PDF pages without a text layer are read with Tesseract;
    /// off, an image is a binary (its printable runs).
    public var ocr = false
    /// Pixels of one image (or rendered page) at most: past it, `limits` (checked from the header, before decoding).
    public var maxImagePixels = 40_000_000
    /// Images read per message; the rest are `limits`.
    public var maxImages = 20
    /// Time OCR may take per message (`timeout` past it).
    public var ocrSeconds = 30.0
    /// Resolution PDF pages without a text layer are rendered at for OCR.
    public var pdfRenderDPI = 200

    public init() {}
}
