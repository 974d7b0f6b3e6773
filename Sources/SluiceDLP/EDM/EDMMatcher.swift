// EDMMatcher: Exact Data Match at scan time. Candidates are found in one
// vectorscan pass (numbers with their separators, e-mail addresses, typed
// characters folded as for every detector); each is normalised as at import,
// hashed under its source's key and looked up. Only numbers with as many
// digits as some indexed column's values are hashed, so prose costs a scan
// and nothing more. Hits are kept per record: a record whose values from
// several distinct columns occur in one message is what `min_fields` counts.
// A finding names the source and column ("customers.account"), never the value.

import Foundation
import SluiceConfig
import SluiceCore

public struct EDMMatcher: Sendable {
    struct Source: Sendable {
        let name: String
        let index: EDMIndex
        let hasher: EDMKey.Hasher
        /// Digit counts of its number columns (nil: it has none).
        let digits: ClosedRange<Int>?
    }

    let sources: [Source]
    let engine: DLPEngine
    /// Digit counts any source looks for.
    let digits: ClosedRange<Int>?

    static let numberDetector = "edm-number"
    static let emailDetector = "edm-email"

    /// nil when there is nothing to look for.
    public init?(_ loaded: [(index: EDMIndex, key: EDMKey)]) throws {
        guard !loaded.isEmpty else { return nil }
        sources = loaded.map { index, key in
            let numbers = index.header.columns.filter { $0.kind == .number && $0.maxDigits > 0 }
            let digits = numbers.isEmpty ? nil : numbers.map(\.minDigits).min()!...numbers.map(\.maxDigits).max()!
            return Source(name: index.header.name, index: index, hasher: EDMKey.Hasher(key), digits: digits)
        }
        let ranges = sources.compactMap(\.digits)
        digits = ranges.isEmpty ? nil : ranges.map(\.lowerBound).min()!...ranges.map(\.upperBound).max()!
        var number = Detector(id: Self.numberDetector, expressions: [#"\d[0-9 ./()+-]{2,46}\d"#], redact: { _ in "" })
        number.edge = .word
        var email = Detector.predefined["email_address"]!
        email.id = Self.emailDetector
        engine = try DLPEngine(detectors: [number, email])
    }

    /// What one message's pieces matched so far.
    struct Hits {
        /// Per source: per record, the columns seen.
        var records: [String: [UInt32: Set<UInt16>]] = [:]
        var findings: [Finding] = []
    }

    func scan(_ piece: [UInt8], part: String, base: Int, into hits: inout Hits) throws {
        for candidate in try engine.findings(in: piece, part: part, base: base) {
            let start = candidate.offset - base
            let span = piece[start..<(start + candidate.length)]
            let bytes = TypedCharacters.folded(Array(span))?.bytes ?? Array(span)
            if candidate.detector == Self.numberDetector {
                guard let digits else { continue }
                for number in EDMValue.numbers(in: bytes[...], lengths: digits) {
                    look(up: number, kind: .number, candidate, into: &hits)
                }
            } else {
                look(up: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, kind: .email, candidate, into: &hits)
            }
        }
    }

    private func look(up value: [UInt8], kind: EDMKind, _ candidate: Finding, into hits: inout Hits) {
        for source in sources {
            if kind == .number, !(source.digits?.contains(value.count) ?? false) { continue }
            var seen: Set<UInt16> = []
            for entry in source.index.lookup(source.hasher.hash(value)) {
                let column = source.index.header.columns[Int(entry.column)]
                guard column.kind == kind, kind == .email || (column.minDigits...column.maxDigits).contains(value.count) else { continue }
                hits.records[source.name, default: [:]][entry.record, default: []].insert(entry.column)
                if seen.insert(entry.column).inserted {
                    hits.findings.append(
                        Finding(
                            detector: "edm:\(source.name)", part: candidate.part, offset: candidate.offset, snippet: "\(source.name).\(column.name)",
                            length: candidate.length))
                }
            }
        }
    }

    /// Per source that matched: the record with the most distinct columns found, and how many records matched.
    func results(_ hits: Hits) -> [String: EDMMatch] {
        var out: [String: EDMMatch] = [:]
        for source in sources {
            guard let records = hits.records[source.name], !records.isEmpty else { continue }
            let best = records.max { a, b in a.value.count < b.value.count || (a.value.count == b.value.count && a.key > b.key) }!
            out[source.name] = EDMMatch(
                fields: best.value.count, columns: best.value.sorted().map { source.index.header.columns[Int($0)].name }, records: records.count)
        }
        return out
    }
}

extension EDMMatcher {
    /// The configured sources' indexes, checked against their keys and columns; nil when none is configured.
    /// A source without an index (never imported) or with a stale one is an error naming it: a rule on it would
    /// otherwise match nothing, silently.
    public static func load(_ sources: [String: EDMSource], configFile: String) throws -> EDMMatcher? {
        var loaded: [(index: EDMIndex, key: EDMKey)] = []
        for (name, source) in sources.sorted(by: { $0.key < $1.key }) {
            func fail(_ reason: String) -> ConfigError { ConfigError(file: configFile, line: nil, column: nil, keyPath: "dlp.edm.\(name)", reason: reason) }
            do {
                let key = try EDMKey.load(file: source.keyFile)
                let index = try EDMIndex.load(file: source.indexFile, key: key)
                guard index.header.columns.map(\.name) == source.columns else {
                    throw fail("its columns changed since the import (\(index.header.columns.map(\.name).joined(separator: ", "))); run `sluice dlp edm import \(name)`")
                }
                loaded.append((index, key))
            } catch let e as EDMKey.Invalid {
                throw fail(e.description)
            } catch let e as EDMIndex.Invalid {
                throw fail(e.description)
            }
        }
        return try EDMMatcher(loaded)
    }
}
