// DLP profiles from rules/dlp.yaml (R-DLP-3): which detectors a profile
// combines (predefined ids and custom detectors: a regex, a keyword list, or a
// regex that needs a keyword nearby), the minimum count, and scan options.
// Errors carry file:line:column like every other config file.

import Foundation
import SluiceConfig

public struct DLPProfile: Sendable {
    public var name: String
    /// Detector ids this profile counts (predefined ids and "PROFILE.custom-name").
    public var detectors: [String]
    public var minCount = 1
    public var scanAttachments = true
    /// Images and PDF pages without a text layer are read with OCR (Tesseract); off by default.
    public var ocr = false
    /// Attachments counted only when their name ends in one of these or their type is one of these.
    public var fileTypes: [String] = []
    public var maxBytes = 10 << 20
    public var samplePercent = 100

    public init(name: String, detectors: [String]) {
        self.name = name
        self.detectors = detectors
    }
}

public struct DLPBook: Sendable {
    public var profiles: [String: DLPProfile] = [:]
    /// Every detector any profile uses, predefined and custom.
    public var detectors: [Detector] = []
    public var file: String?

    public init() {}

    public static let fileName = "dlp.yaml"

    /// rules/dlp.yaml, or an empty book when there is none.
    public static func load(rulesDirectory: String) throws -> DLPBook {
        let file = "\(rulesDirectory)/\(fileName)"
        guard FileManager.default.fileExists(atPath: file) else { return DLPBook() }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigError(file: file, line: nil, column: nil, keyPath: "", reason: "cannot read")
        }
        return try parse(yaml: text, file: file)
    }

    public static func parse(yaml: String, file: String) throws -> DLPBook {
        var book = DLPBook()
        book.file = file
        let root = try ConfigNode.root(yaml: yaml, file: file)
        let top = try root.mapping(allowed: ["profiles"])
        guard let profilesNode = top["profiles"] else { return book }
        var used: [String: Detector] = [:]
        for (name, node) in try profilesNode.namedEntries() {
            let m = try node.mapping(allowed: ["detectors", "custom", "min_count", "scan_attachments", "file_types", "max_bytes", "sample_percent", "ocr"])
            var p = DLPProfile(name: name, detectors: [])
            for d in try m["detectors"]?.stringList() ?? [] {
                if d == "zip_bomb" {
                    // Not a pattern: reported by the MIME walker when an archive would expand past its limits.
                    p.detectors.append(d)
                    continue
                }
                guard let detector = Detector.predefined[d] else {
                    throw (m["detectors"] ?? node).error(
                        "unknown detector '\(d)'; predefined: \((Detector.predefined.keys.sorted() + ["zip_bomb"]).joined(separator: ", "))")
                }
                used[d] = detector
                p.detectors.append(d)
            }
            for c in try m["custom"]?.list() ?? [] {
                let detector = try custom(c, profile: name)
                used[detector.id] = detector
                p.detectors.append(detector.id)
            }
            guard !p.detectors.isEmpty else { throw node.error("a profile needs 'detectors:' or 'custom:'") }
            if let n = m["min_count"] { p.minCount = try n.int(in: 1...1_000_000) }
            if let a = m["scan_attachments"] { p.scanAttachments = try a.bool() }
            if let o = m["ocr"] { p.ocr = try o.bool() }
            if let f = m["file_types"] { p.fileTypes = try f.stringList().map { $0.lowercased() } }
            if let b = m["max_bytes"] { p.maxBytes = try b.size() }
            if let s = m["sample_percent"] { p.samplePercent = try s.int(in: 0...100) }
            book.profiles[name] = p
        }
        book.detectors = used.keys.sorted().map { used[$0]! }
        if !book.detectors.isEmpty {
            // Compile once here so that a bad regex is reported at load, with its position.
            do {
                _ = try DLPEngine(detectors: book.detectors)
            } catch {
                throw profilesNode.error("\(error)")
            }
        }
        return book
    }

    /// `{ name: N, regex: R, keywords: [...], proximity: 50 }`: a regex (optionally needing a keyword
    /// nearby) or, without regex, a list of keywords matched as whole words, case-insensitively.
    static func custom(_ node: ConfigNode, profile: String) throws -> Detector {
        let m = try node.mapping(allowed: ["name", "regex", "keywords", "proximity"])
        guard let nameNode = m["name"] else { throw node.error("a custom detector needs a 'name'") }
        let name = try nameNode.nonEmptyString()
        let keywords = try m["keywords"]?.stringList().map { $0.lowercased() } ?? []
        let proximity = try m["proximity"]?.int(in: 1...10_000) ?? 100
        if let r = m["regex"] {
            let expression = try r.nonEmptyString()
            do {
                _ = try PatternSet([.init(id: 0, expression: expression)])
            } catch {
                throw r.error("not a pattern vectorscan accepts: \(error)")
            }
            return Detector(id: "\(profile).\(name)", expressions: [expression], keywords: keywords, proximity: proximity)
        }
        guard !keywords.isEmpty else { throw node.error("a custom detector needs 'regex:' or 'keywords:'") }
        let escaped = keywords.map { Self.escape($0) }
        return Detector(id: "\(profile).\(name)", expressions: escaped, caseless: true, redact: { $0 })
    }

    /// A keyword as a literal pattern.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\.^$|?*+()[]{}/".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
