// `sluice dlp scan FILE...`: what the DLP profiles of rules/dlp.yaml find in
// files on disk (redacted): a message is walked part by part; any other file
// (a document, an archive, a text file) is scanned as the attachment it would
// be. With --seconds, how fast one core scans them.

import ArgumentParser
import Foundation
import SluiceDLP

struct DLPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlp", abstract: "Scan messages with the DLP profiles.", subcommands: [Scan.self, EDM.self])

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the findings (redacted), what could not be scanned, and the count per profile of each file.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "Files: messages (.eml), or documents, archives and text files scanned as attachments.") var files: [String]
        @Flag(help: "One JSON document.") var json = false
        @Option(help: "Scan each file repeatedly for this long and print MB/s on one core (benchmarks).") var seconds: Double?

        func run() async throws {
            let config = try options.load()
            let book = try DLPBook.load(rulesDirectory: config.rulesDir)
            let scanner = try DLPScanner(book: book, edm: try EDMMatcher.load(config.edmSources, configFile: config.file))
            guard !scanner.isEmpty else { throw UserError("no profiles in \(config.rulesDir)/dlp.yaml and no dlp.edm sources in \(options.path)") }
            var documents: [[String: Any]] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw UserError("cannot read \(file)") }
                let bytes = [UInt8](data)
                let isMessage = MessageSniffer.looksLikeMessage(bytes)
                let name = (file as NSString).lastPathComponent
                let scan = { () throws -> DLPReport in
                    isMessage ? try scanner.scan(bytes) : try scanner.scan(document: bytes, name: name)
                }
                if let seconds {
                    let report = try scan()
                    let start = Date()
                    var rounds = 0
                    while Date().timeIntervalSince(start) < seconds {
                        _ = try scan()
                        rounds += 1
                    }
                    let mbps = Double(bytes.count * rounds) / Date().timeIntervalSince(start) / 1_000_000
                    print(String(format: "%@: %.1f MB/s (%d bytes, %d rounds, %d findings)", file, mbps, bytes.count, rounds, report.findings.count))
                    continue
                }
                // The inspect stage's own scan (every profile, no sampling): what the daemon's rules would see.
                let report = isMessage ? try scanner.scan(path: file, length: bytes.count) : try scanner.scan(document: bytes, name: name)
                let results = report.results(book: book)
                let counts = results.profiles.mapValues(\.count)
                if json {
                    documents.append([
                        "file": file, "kind": isMessage ? "message" : "document", "profiles": counts, "truncated": results.truncated,
                        "findings": results.findings.map { f in
                            [
                                "detector": f.detector, "path": Self.path(f.part), "part": f.part, "offset": f.offset, "snippet": f.snippet,
                                "profiles": book.profiles.values.filter { $0.detectors.contains(f.detector) }.map(\.name).sorted(),
                            ] as [String: Any]
                        },
                        "unscannable": results.unscannable.map { ["path": $0.path, "reason": $0.reason.rawValue, "detail": $0.detail] },
                        // How each part was read: its path, what it was read as, and the milliseconds it took.
                        "parts": report.parts.compactMap { p -> [String: Any]? in
                            guard let how = p.readAs else { return nil }
                            return ["path": Self.path(p.label), "type": p.contentType, "read_as": how, "ocr": how.hasSuffix("(OCR)"),
                                    "ms": (p.seconds * 10_000).rounded() / 10]
                        },
                        "edm": results.edm.mapValues { ["fields": $0.fields, "columns": $0.columns, "records": $0.records] as [String: Any] },
                    ])
                    continue
                }
                print("\(file): \(counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
                for f in results.findings { print("  \(f.detector) in \(Self.path(f.part)) at byte \(f.offset): \(f.snippet)") }
                for u in results.unscannable { print("  unscannable (\(u.reason)): \(u.path): \(u.detail)") }
                for (name, m) in results.edm.sorted(by: { $0.key < $1.key }) {
                    print("  edm \(name): a record matched in \(m.fields) field(s) (\(m.columns.joined(separator: ", "))); \(m.records) record(s) in all")
                }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["files": documents], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    
        /// Where a finding is, as a path: "cards.zip/q3/report.docx/word/document.xml", "body", "headers".
        static func path(_ part: String) -> String {
            part.hasPrefix("attachment ") ? String(part.dropFirst("attachment ".count)) : part
        }
    }
}
