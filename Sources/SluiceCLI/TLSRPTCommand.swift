// `sluice tlsrpt send [--date D]`: makes a day's TLS-RPT reports (RFC 8460)
// now from the TLS session results the daemon recorded, one JSON file per
// policy domain under DATA_DIR/tlsrpt/reports/DATE/ (the daemon writes them
// itself a few minutes after each UTC midnight).

import ArgumentParser
import Foundation
import SluiceCore
import SluiceOutboundTLS

struct TLSRPTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlsrpt", abstract: "TLS reporting (RFC 8460) for direct delivery.", subcommands: [Send.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a day's aggregate reports now: DATA_DIR/tlsrpt/reports/DATE/DOMAIN.json, one per policy domain.")

        @OptionGroup var options: ConfigOption
        @Option(help: "The UTC day, YYYY-MM-DD (default: today so far).") var date: String?
        @Flag(help: "One JSON document: the files written, by domain.") var json = false

        func run() async throws {
            let config = try options.load()
            try DataDirectoryOwner.adopt(config)
            let day = date ?? String(ISO8601Time.utc(WallClock().now()).prefix(10))
            guard TLSReports.isDay(day) else { throw UserError("--date wants a UTC day such as 2026-12-07, got '\(day)'") }
            let written: [String: String]
            do {
                written = try TLSReports.write(day: day, config: config)
            } catch {
                throw UserError("cannot write the reports of \(day): \(error)")
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["date": day, "reports": written], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if written.isEmpty { print("no TLS session was recorded on \(day)") }
            for (domain, path) in written.sorted(by: { $0.key < $1.key }) { print("\(domain): \(path)") }
        }
    }
}
