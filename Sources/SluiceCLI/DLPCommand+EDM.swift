// `sluice dlp edm import NAME` and `sluice dlp edm keygen`: Exact Data Match
// (dlp.edm in sluice.yaml). import reads the source's CSV and writes its
// index of keyed hashes under the data directory (no value in clear, none
// printed); keygen writes the HMAC key file. The daemon reads the index at
// its next start or reload.

import ArgumentParser
import Foundation
import SluiceCore
import SluiceDLP

extension DLPCommand {
    struct EDM: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "edm", abstract: "Exact Data Match: index the organisation's records as keyed hashes.",
            subcommands: [Import.self, Keygen.self])
    }
}

extension DLPCommand.EDM {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read dlp.edm.NAME's CSV and write its index (keyed hashes only); a row that does not parse imports nothing.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The source's name under dlp.edm in the configuration.") var name: String

        func run() async throws {
            let config = try options.load()
            guard let source = config.edmSources[name] else {
                let known = config.edmSources.keys.sorted()
                throw UserError("no EDM source '\(name)' under dlp.edm in \(options.path)\(known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))")")
            }
            let report: EDMImportReport
            do { report = try EDMImport.run(source, now: WallClock().now()) } catch let e as EDMImport.Failed { throw UserError(e.description) }
            let columns = report.index?.columns.map { c in c.kind == .number ? "\(c.name) (number, \(c.minDigits)-\(c.maxDigits) digits)" : "\(c.name) (e-mail)" }
            print("imported \(report.records) records, \(report.values) values of \(columns?.joined(separator: ", ") ?? "") into \(source.indexFile) (\(report.bytes) bytes)")
            if report.skipped > 0 {
                print("skipped \(report.skipped) empty values or values not of their column's kind (the first on line \(report.firstSkippedLine ?? 0))")
            }
            print("the daemon reads it at its next start or `sluice reload`")
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new EDM key file (mode 0600); indexes made with another key must be imported again.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The key file to write, which must not exist (default: the key_file of dlp.edm's sources, when they share one).")
        var out: String?

        func run() async throws {
            let named = Set(try options.load().edmSources.values.map(\.keyFile))
            guard let out = out ?? (named.count == 1 ? named.first : nil) else {
                throw UserError("give --out FILE\(named.count > 1 ? " (dlp.edm's sources name several key files)" : "")")
            }
            guard !FileManager.default.fileExists(atPath: out) else { throw UserError("\(out) exists; a new key needs every source imported again, so remove it first") }
            guard FileManager.default.createFile(atPath: out, contents: Data(EDMKey.newKeyFile().utf8), attributes: [.posixPermissions: 0o600]) else {
                throw UserError("cannot write \(out)")
            }
            print("wrote \(out); name it as key_file: of dlp.edm sources, then `sluice dlp edm import NAME`")
        }
    }
}
