// DLPEngine: the detectors compiled into one vectorscan database, and the
// step from raw matches to findings: boundaries, validation, nearby
// keywords, overlaps resolved (longest wins), values redacted. Findings keep
// the redacted snippet only; the value itself never leaves this file.

import Foundation

public struct Finding: Sendable, Hashable {
    public var detector: String
    /// Where: "body", "headers", "attachment report.csv" ...
    public var part: String
    /// Byte offset in the decoded text of that part.
    public var offset: Int
    public var snippet: String
    /// Bytes the value spans in the decoded text.
    public var length: Int
}

public final class DLPEngine: Sendable {
    public let detectors: [Detector]
    let patterns: PatternSet
    /// Pattern id -> detector index.
    let owner: [Int]

    public init(detectors: [Detector]) throws {
        self.detectors = detectors
        var list: [PatternSet.Pattern] = []
        var owner: [Int] = []
        for (i, d) in detectors.enumerated() {
            for e in d.expressions {
                list.append(.init(id: owner.count, expression: e, caseless: d.caseless, continuation: d.edge?.bytes ?? []))
                owner.append(i)
            }
        }
        self.owner = owner
        patterns = try PatternSet(list)
    }

    /// Findings in one piece of decoded text; `base` is its offset within the part.
    /// Typed spaces, dashes and full-width digits are folded to ASCII first (`TypedCharacters`); offsets and
    /// lengths are still those of the text as given.
    public func findings(in text: [UInt8], part: String, base: Int = 0) throws -> [Finding] {
        guard let folded = TypedCharacters.folded(text) else { return try findings(scanning: text, part: part, base: base) }
        return try findings(scanning: folded.bytes, part: part, base: 0).map { f in
            var f = f
            let start = folded.origin[f.offset]
            f.length = folded.origin[f.offset + f.length] - start
            f.offset = base + start
            return f
        }
    }

    private func findings(scanning text: [UInt8], part: String, base: Int) throws -> [Finding] {
        let matches = try patterns.scan(text)
        // Per detector and start, every end reached; the longest valid one wins; then no overlaps.
        var ends: [Int: [Int: [Int]]] = [:]  // detector -> start -> ends
        for m in matches {
            var start = m.start
            let end = m.end
            let detector = detectors[owner[m.id]]
            if let length = detector.fixedLength { start = max(0, end - length) }
            if !detector.extendLeft.isEmpty {
                while start > 0, m.start - start < 64, detector.extendLeft.contains(text[start - 1]) { start -= 1 }
            }
            ends[owner[m.id], default: [:]][start, default: []].append(end)
        }
        var out: [Finding] = []
        for (d, byStart) in ends {
            let detector = detectors[d]
            var candidates: [(Int, Int)] = []
            for (start, list) in byStart {
                for end in Set(list).sorted(by: >) where accept(detector, text, start, end) {
                    candidates.append((start, end))
                    break
                }
            }
            candidates.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
            var lastEnd = -1
            for (start, end) in candidates where start >= lastEnd {
                let value = String(decoding: text[start..<end], as: UTF8.self)
                out.append(Finding(detector: detector.id, part: part, offset: base + start, snippet: detector.redact(value), length: end - start))
                lastEnd = end
            }
        }
        // A value inside a longer one of another kind is part of it (card-like digits inside an IBAN).
        let spans = out.map { ($0, $0.offset, $0.offset + $0.length) }
        out = spans.filter { f, start, end in
            !spans.contains { g, s2, e2 in g.detector != f.detector && s2 <= start && end <= e2 && (e2 - s2) > (end - start) }
        }.map(\.0)
        return out.sorted { ($0.offset, $0.detector) < ($1.offset, $1.detector) }
    }

    private func accept(_ d: Detector, _ text: [UInt8], _ start: Int, _ end: Int) -> Bool {
        if d.needsBoundaries {
            if start > 0, Self.isWordByte(text[start - 1]) { return false }
            if end < text.count, Self.isWordByte(text[end]) { return false }
            // Digits after "0." are a decimal fraction (a spreadsheet's 0.38810123456789425), not a number of their own.
            if start > 1, text[start - 1] == 46, (48...57).contains(text[start - 2]), (48...57).contains(text[start]) { return false }
        }
        let value = String(decoding: text[start..<end], as: UTF8.self)
        guard d.validate(value) else { return false }
        if !d.keywords.isEmpty {
            let lo = max(0, start - d.proximity)
            let hi = min(text.count, end + d.proximity)
            let around = String(decoding: text[lo..<start] + text[end..<hi], as: UTF8.self).lowercased()
            guard d.keywords.contains(where: { around.contains($0) }) else { return false }
        }
        return true
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) || b >= 0x80
    }
}
