// `sluice archive delete|hold|release`: erasure requests and legal hold.
// Each takes IDs, or --search with the search filters (every match, not a
// page); delete --search asks for --yes. A held message outlives its
// archive's retention and is not deleted until released: delete refuses the
// whole request and names the held ones.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceArchive

extension ArchiveCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase archived messages (an erasure request): IDs, or --search with filters and --yes.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to delete (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Delete every message the filters find.") var search = false
        @OptionGroup var filters: Filters
        @Flag(help: "Confirm deleting everything --search finds.") var yes = false

        func run() async throws {
            let (_, admin) = try ArchiveCommand.open(options)
            let messages = try await admin.selection(ids: ids, query: search ? try filters.query() : nil)
            guard !messages.isEmpty else { throw UserError(search ? "no archived message matches" : "nothing to delete: give IDs or --search with filters") }
            if search && !yes {
                throw UserError("\(messages.count) archived message(s) match; add --yes to delete them (archive search with the same filters lists them)")
            }
            let deleted = try await admin.delete(messages)
            print("deleted \(deleted) archived message(s)")
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put archived messages under legal hold: kept past retention, not deletable.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to hold (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Hold every message the filters find.") var search = false
        @OptionGroup var filters: Filters

        func run() async throws { try await ArchiveCommand.setHold(options, ids: ids, search: search, filters: filters, held: true) }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release archived messages from legal hold (retention applies again).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to release (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Release every message the filters find.") var search = false
        @OptionGroup var filters: Filters

        func run() async throws { try await ArchiveCommand.setHold(options, ids: ids, search: search, filters: filters, held: false) }
    }

    static func setHold(_ options: ConfigOption, ids: [Int64], search: Bool, filters: Filters, held: Bool) async throws {
        let (_, admin) = try open(options)
        let messages = try await admin.selection(ids: ids, query: search ? try filters.query() : nil)
        guard !messages.isEmpty else { throw UserError(search ? "no archived message matches" : "give IDs or --search with filters") }
        let changed = try await admin.setHold(messages, held: held)
        let already = messages.count - changed
        print("\(held ? "held" : "released") \(changed) archived message(s)\(already > 0 ? " (\(already) already \(held ? "held" : "not held"))" : "")")
    }
}
