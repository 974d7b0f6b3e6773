// `sluice dlp edm import NAME`: a CSV of the organisation's records into an
// EDM index. Each configured column's values are normalised (EDMValue) and
// stored only as keyed hashes; the kind of a column (number or e-mail
// address) is that of its first value. A row that does not parse, a header
// without a configured column, or a column of neither kind stops the import
// with the line, and nothing is written; the new index replaces the old one
// atomically (the daemon reads it at its next start or reload).

import Foundation
import SluiceCore

public struct EDMImportReport: Sendable {
    public var records = 0
    public var values = 0
    /// Values that were not of their column's kind (or empty), and the first line with one.
    public var skipped = 0
    public var firstSkippedLine: Int?
    public var bytes = 0
    public var index: EDMIndex.Header?
}

public enum EDMImport {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads `source.file`, writes `source.indexFile`. `now` stamps the index.
    public static func run(_ source: EDMSource, now: Date) throws -> EDMImportReport {
        let key: EDMKey
        do { key = try EDMKey.load(file: source.keyFile) } catch { throw Failed(description: error.description) }
        guard let data = FileManager.default.contents(atPath: source.file) else { throw Failed(description: "\(source.file): cannot read") }
        let (index, report) = try build(source, csv: [UInt8](data), key: key, now: now)
        let bytes = try index.encoded()
        let dir = (source.indexFile as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        let temporary = source.indexFile + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw Failed(description: "\(temporary): cannot write")
        }
        guard rename(temporary, source.indexFile) == 0 else {
            throw Failed(description: "\(source.indexFile): cannot replace (\(String(cString: strerror(errno))))")
        }
        var done = report
        done.bytes = bytes.count
        return done
    }

    /// The index of a CSV's bytes (pure: no file is touched).
    static func build(_ source: EDMSource, csv: [UInt8], key: EDMKey, now: Date) throws -> (EDMIndex, EDMImportReport) {
        var reader = CSVReader(csv)
        let file = source.file
        func fail(_ line: Int, _ reason: String) -> Failed { Failed(description: "\(file):\(line): \(reason); nothing imported") }
        func nextRow() throws(Failed) -> (line: Int, fields: [String])? {
            do { return try reader.next() } catch { throw fail(error.line, error.reason) }
        }
        guard let first = try nextRow() else { throw Failed(description: "\(file): empty (a header row names the columns)") }
        let names = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var positions: [Int] = []
        for name in source.columns {
            guard let at = names.firstIndex(of: name) else {
                throw fail(1, "no column '\(name)' in the header (it has: \(names.joined(separator: ", ")))")
            }
            positions.append(at)
        }
        let hasher = EDMKey.Hasher(key)
        var columns: [EDMIndex.Column?] = Array(repeating: nil, count: positions.count)
        var entries: [EDMIndex.Entry] = []
        var report = EDMImportReport()
        while let row = try nextRow() {
            guard row.fields.count == names.count else {
                throw fail(row.line, "\(row.fields.count) fields where the header has \(names.count)")
            }
            guard report.records < Int(UInt32.max) else { throw fail(row.line, "more records than an index holds") }
            let record = UInt32(report.records)
            report.records += 1
            for (c, at) in positions.enumerated() {
                let text = row.fields[at]
                guard let (kind, normal) = EDMValue.normalise(text) else {
                    if columns[c] == nil && !text.trimmingCharacters(in: .whitespaces).isEmpty {
                        throw fail(row.line, "column '\(source.columns[c])' holds neither a number (4 to 32 digits) nor an e-mail address; EDM looks for those")
                    }
                    report.skipped += 1
                    report.firstSkippedLine = report.firstSkippedLine ?? row.line
                    continue
                }
                if columns[c] == nil { columns[c] = EDMIndex.Column(name: source.columns[c], kind: kind, minDigits: Int.max, maxDigits: 0) }
                guard columns[c]!.kind == kind else {
                    report.skipped += 1
                    report.firstSkippedLine = report.firstSkippedLine ?? row.line
                    continue
                }
                if kind == .number {
                    columns[c]!.minDigits = min(columns[c]!.minDigits, normal.count)
                    columns[c]!.maxDigits = max(columns[c]!.maxDigits, normal.count)
                }
                entries.append(EDMIndex.Entry(hash: hasher.hash(normal), record: record, column: UInt16(c)))
                report.values += 1
            }
        }
        guard report.records > 0 else { throw Failed(description: "\(file): no records after the header; nothing imported") }
        let header = EDMIndex.Header(
            name: source.name,
            columns: columns.enumerated().map { c, column in
                column ?? EDMIndex.Column(name: source.columns[c], kind: .number, minDigits: 0, maxDigits: 0)
            }.map { c in
                var c = c
                if c.kind == .email || c.minDigits > c.maxDigits { (c.minDigits, c.maxDigits) = (0, 0) }
                return c
            },
            records: report.records, entries: entries.count, keyCheck: String(key.check, radix: 16), importedAt: ISO8601Time.utc(now))
        report.index = header
        return (EDMIndex(header: header, entries: entries), report)
    }
}
