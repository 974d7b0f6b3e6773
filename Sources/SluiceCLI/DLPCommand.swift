// `sluice dlp scan FILE...`: what the DLP profiles of rules/dlp.yaml find in
// messages on disk (redacted), and with --seconds how fast one core scans them.

import ArgumentParser
import Foundation
import SluiceDLP

struct DLPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dlp", abstract: "Scan messages with the DLP profiles.", subcommands: [Scan.self])

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the findings (redacted) and the count per profile of each message.")

        @OptionGroup var options: ConfigOption
        @Argument(help: "Message files (.eml).") var files: [String]
        @Flag(help: "One JSON document.") var json = false
        @Option(help: "Scan each file repeatedly for this long and print MB/s on one core (benchmarks).") var seconds: Double?

        func run() async throws {
            let config = try options.load()
            let book = try DLPBook.load(rulesDirectory: config.rulesDir)
            guard !book.profiles.isEmpty else { throw UserError("no profiles in \(config.rulesDir)/dlp.yaml") }
            let scanner = try DLPScanner(book: book)
            var documents: [[String: Any]] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw UserError("cannot read \(file)") }
                let bytes = [UInt8](data)
                if let seconds {
                    let report = try scanner.scan(bytes)
                    let start = Date()
                    var rounds = 0
                    while Date().timeIntervalSince(start) < seconds {
                        _ = try scanner.scan(bytes)
                        rounds += 1
                    }
                    let mbps = Double(bytes.count * rounds) / Date().timeIntervalSince(start) / 1_000_000
                    print(String(format: "%@: %.1f MB/s (%d bytes, %d rounds, %d findings)", file, mbps, bytes.count, rounds, report.findings.count))
                    continue
                }
                // The inspect stage's own scan (every profile, no sampling): what the daemon's rules would see.
                let results = try scanner.inspect(path: file, length: bytes.count, sampled: false)
                let counts = results.profiles.mapValues(\.count)
                if json {
                    documents.append([
                        "file": file, "profiles": counts, "truncated": results.truncated,
                        "findings": results.findings.map { ["detector": $0.detector, "part": $0.part, "offset": $0.offset, "snippet": $0.snippet] },
                    ])
                    continue
                }
                print("\(file): \(counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
                for f in results.findings { print("  \(f.detector) in \(f.part) at byte \(f.offset): \(f.snippet)") }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["messages": documents], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
