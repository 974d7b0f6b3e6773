// `sluice archive bench`: ArchiveBench's figures (bench/archive.sh).

import ArgumentParser
import Foundation
import SluiceArchive

extension ArchiveCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure archive ingest (messages/s) and search latency (p50/p99) per filter on a synthetic archive.")
        @Option(help: "Messages to generate.") var messages: Int = 100_000
        @Option(help: "The scratch database (deleted first).") var db: String
        @Option(help: "Runs per query shape.") var runs: Int = 50

        func run() async throws {
            try ArchiveBench.run(messages: messages, db: db, runs: runs) { print($0) }
        }
    }
}
