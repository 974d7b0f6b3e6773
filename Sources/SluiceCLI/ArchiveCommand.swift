// `sluice archive search|show|export|stats` (R-ARCHIVE-2): find archived mail
// by sender, recipient, subject, text (Sluice's query language, ArchiveTextQuery), dates and attachments;
// read it back byte for byte; export it as .eml files or one mbox. Deleting
// and legal hold are in ArchiveCommand+Keep.swift.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceArchive
import SluiceConfig

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Search, read, export, keep and erase archived mail.",
        subcommands: [
            Search.self, Show.self, Export.self, Delete.self, Hold.self, Release.self, Keygen.self, Rekey.self, Stats.self, Bench.self,
        ])

    struct Filters: ParsableArguments {
        @Option(help: "Only this archive.") var archive: String?
        @Option(help: "Sender or From: address: alice@example.test, @example.test or example.test (and subdomains), alice@, or a prefix.") var from: String?
        @Option(help: "A recipient, To: or Cc: address, matched as --from is.") var to: String?
        @Option(help: "The subject contains this.") var subject: String?
        @Option(help: "Text: words, addresses and domains as typed, \"a phrase\", prefix*, a OR b, -word (README: archive).") var text: String?
        @Option(help: "Received on or after (YYYY-MM-DD or an ISO 8601 time; inclusive).") var since: String?
        @Option(help: "Received before (YYYY-MM-DD or an ISO 8601 time; exclusive).") var until: String?
        @Flag(help: "Only messages with attachments.") var hasAttachment = false
        @Option(help: "Only messages from this client address.") var ip: String?
        @Option(help: "Only messages whose client authenticated as this user.") var user: String?
        @Option(help: "Only messages received on this listener.") var listener: String?
        @Option(help: "Only messages where this DLP profile matched.") var dlp: String?
        @Option(help: "Only messages with this DMARC result (pass, fail, none, temperror, permerror).") var dmarc: String?
        @Flag(help: "Only messages under legal hold.") var held = false
        @Option(help: "At most this many results.") var limit: Int = 100

        func query() throws -> ArchiveQuery {
            var q = ArchiveQuery()
            q.archive = archive
            q.from = from
            q.to = to
            q.subject = subject
            q.text = text
            q.since = try since.map { try Self.date($0, "--since") }
            q.until = try until.map { try Self.date($0, "--until") }
            if hasAttachment { q.hasAttachment = true }
            q.clientIP = ip
            q.user = user
            q.listener = listener
            q.dlpProfile = dlp
            q.dmarc = dmarc
            if held { q.held = true }
            q.limit = limit
            return q
        }

        static func date(_ s: String, _ option: String) throws -> Date {
            if let d = try? Date(s + "T00:00:00Z", strategy: .iso8601) { return d }
            if let d = try? Date(s, strategy: .iso8601) { return d }
            throw ValidationError("\(option) '\(s)' is not YYYY-MM-DD or an ISO 8601 time such as 2026-03-01T12:00:00Z")
        }
    }

    static func open(_ options: ConfigOption) throws -> (SluiceConfiguration, ArchiveAdmin) {
        let config = try options.loadAsDataOwner()
        return (config, ArchiveAdmin(store: try options.storage(config).store((any ArchiveStore).self)))
    }

    static func iso(_ d: Date) -> String { d.formatted(.iso8601) }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List archived messages matching every filter given.")
        @OptionGroup var options: ConfigOption
        @OptionGroup var filters: Filters
        @Flag(help: "One JSON document.") var json = false

        func run() async throws {
            let (_, admin) = try ArchiveCommand.open(options)
            let (results, total) = try await admin.search(try filters.query())
            if json {
                let rows = results.map { m -> [String: Any] in
                    ["id": m.id, "archive": m.archive, "queue_id": m.queueID, "received_at": ArchiveCommand.iso(m.receivedAt), "sender": m.sender,
                     "recipients": m.recipients, "from": m.from, "subject": m.subject, "message_id": m.messageID, "size": m.size,
                     "attachments": m.attachments, "dlp": m.dlpSummary, "auth": m.authSummary, "client_ip": m.submission.clientIP,
                     "listener": m.submission.listener, "user": m.submission.user, "tls": m.submission.tls,
                     "dlp_profiles": m.submission.dlpProfiles, "dmarc": m.submission.dmarc, "held": m.held]
                }
                let data = try JSONSerialization.data(
                    withJSONObject: ["messages": rows, "total": total] as [String: Any], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let table = TextTable(headers: ["ID", "RECEIVED", "ARCHIVE", "FROM", "TO", "SUBJECT", "SIZE", "HOLD"])
            for m in results {
                table.add([
                    "\(m.id)", ArchiveCommand.iso(m.receivedAt), m.archive, m.sender, m.recipients.joined(separator: ","),
                    String(m.subject.prefix(50)), "\(m.size)", m.held ? "held" : "",
                ])
            }
            print(table.render(), terminator: "")
            if total > results.count {
                print("showing \(results.count) of \(total) messages (newest first; --limit N shows more, archive export --search takes them all)")
            } else {
                print("\(results.count) message(s)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an archived message exactly as it was archived.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The ID from `archive search`.") var id: Int64

        func run() async throws {
            let (_, admin) = try ArchiveCommand.open(options)
            FileHandle.standardOutput.write(Data(try await admin.raw(id: id)))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write archived messages as .eml files into a directory, or as one mbox file (RFC 4155).",
            discussion: """
                --format eml: --out is a directory (made if missing); each message becomes ID-QUEUEID.eml in it.
                --format mbox: --out is a file (replaced); messages are appended oldest first.
                --search exports every match of the filters (not only the first --limit), a page at a time.
                """)
        @OptionGroup var options: ConfigOption
        @Argument(help: "IDs to export (or use --search with filters).") var ids: [Int64] = []
        @Flag(help: "Export every message the filters find.") var search = false
        @OptionGroup var filters: Filters
        @Option(help: "eml or mbox.") var format: String = "eml"
        @Option(help: "eml: a directory; mbox: a file.") var out: String

        func run() async throws {
            guard let format = ArchiveAdmin.ExportFormat(rawValue: format) else { throw ValidationError("--format is eml or mbox") }
            let (_, admin) = try ArchiveCommand.open(options)
            let messages = try await admin.selection(ids: ids, query: search ? try filters.query() : nil)
            try await admin.export(messages, format: format, to: out)
            print("exported \(messages.count) message(s) to \(out)")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Messages, sizes and date range per archive.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "One JSON document.") var json = false

        func run() async throws {
            let (config, admin) = try ArchiveCommand.open(options)
            let stats = try await admin.stats()
            if json {
                let rows = stats.map { s -> [String: Any] in
                    ["archive": s.archive, "messages": s.messages, "bytes": s.bytes, "stored_bytes": s.storedBytes,
                     "oldest": s.oldest.map(ArchiveCommand.iso) ?? NSNull(), "newest": s.newest.map(ArchiveCommand.iso) ?? NSNull(),
                     "retention_seconds": config.archives[s.archive]?.retention ?? NSNull()]
                }
                let data = try JSONSerialization.data(withJSONObject: ["archives": rows], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let table = TextTable(headers: ["ARCHIVE", "MESSAGES", "BYTES", "STORED", "OLDEST", "NEWEST", "RETENTION"])
            for s in stats {
                let retention = config.archives[s.archive].map { $0.retention.map { "\(Int($0 / 86400))d" } ?? "permanent" } ?? "-"
                table.add([
                    s.archive, "\(s.messages)", "\(s.bytes)", "\(s.storedBytes)", s.oldest.map(ArchiveCommand.iso) ?? "-",
                    s.newest.map(ArchiveCommand.iso) ?? "-", retention,
                ])
            }
            print(table.render(), terminator: "")
        }
    }
}
