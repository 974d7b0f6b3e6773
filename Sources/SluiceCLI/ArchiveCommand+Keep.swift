// `sluice archive delete|hold|release`: erasure requests and legal hold.
// Each takes IDs, or --search with the search filters (every match, not a
// page); delete --search asks for --yes. A held message outlives its
// archive's retention and is not deleted until released: delete refuses the
// whole request and names the held ones.

import ArgumentParser
import Foundation
import SluiceArchive

extension ArchiveCommand {
    /// The messages an archive command acts on: the IDs given, and with `search` every match of the filters.
    static func selection(_ store: SQLiteArchiveStore, ids: [Int64], search: Bool, filters: Filters) throws -> [ArchivedMessage] {
        var messages: [ArchivedMessage] = []
        if search {
            // Every match, newest first, a page at a time.
            var query = try filters.query()
            query.limit = 500
            do {
                while true {
                    let page = try store.search(query)
                    messages += page
                    guard page.count == query.limit, let last = page.last else { break }
                    query.before = ArchiveCursor(last)
                }
            } catch let e as ArchiveError { throw UserError(e.description) }
        }
        for id in ids {
            guard let m = try store.message(id: id) else { throw UserError("no archived message \(id)") }
            messages.append(m)
        }
        return messages
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase archived messages (an erasure request): IDs, or --search with filters and --yes.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to delete (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Delete every message the filters find.") var search = false
        @OptionGroup var filters: Filters
        @Flag(help: "Confirm deleting everything --search finds.") var yes = false

        func run() async throws {
            let (_, store) = try ArchiveCommand.open(options)
            let messages = try ArchiveCommand.selection(store, ids: ids, search: search, filters: filters)
            guard !messages.isEmpty else { throw UserError(search ? "no archived message matches" : "nothing to delete: give IDs or --search with filters") }
            if search && !yes {
                throw UserError("\(messages.count) archived message(s) match; add --yes to delete them (archive search with the same filters lists them)")
            }
            let deleted: Int
            do { deleted = try store.delete(ids: messages.map(\.id)) } catch let e as ArchiveError { throw UserError(e.description) }
            print("deleted \(deleted) archived message(s)")
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put archived messages under legal hold: kept past retention, not deletable.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to hold (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Hold every message the filters find.") var search = false
        @OptionGroup var filters: Filters

        func run() async throws { try ArchiveCommand.setHold(options, ids: ids, search: search, filters: filters, held: true) }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release archived messages from legal hold (retention applies again).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to release (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Release every message the filters find.") var search = false
        @OptionGroup var filters: Filters

        func run() async throws { try ArchiveCommand.setHold(options, ids: ids, search: search, filters: filters, held: false) }
    }

    static func setHold(_ options: ConfigOption, ids: [Int64], search: Bool, filters: Filters, held: Bool) throws {
        let (_, store) = try open(options)
        let messages = try selection(store, ids: ids, search: search, filters: filters)
        guard !messages.isEmpty else { throw UserError(search ? "no archived message matches" : "give IDs or --search with filters") }
        let changed = try store.setHold(ids: messages.map(\.id), held: held)
        let already = messages.count - changed
        print("\(held ? "held" : "released") \(changed) archived message(s)\(already > 0 ? " (\(already) already \(held ? "held" : "not held"))" : "")")
    }
}
