// `sluice queue list|show|summary|retry|hold|release|delete`: look at and
// manage the on-disk queue, like mailq, postsuper and qshape. Each verb takes
// one queue id or the filters of QueueFilter (--state, --from, --to-domain,
// --older). Works whether or not the daemon runs.

import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif
import Logging
import SluiceAdmin
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceQuarantine
import SluiceQueue

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Inspect and manage the mail queue.",
        subcommands: [List.self, Show.self, Summary.self, Delete.self, Retry.self, Hold.self, Release.self, Bench.self])

    /// The queue operations on this node's queue, telling a running daemon (SIGUSR1) and keeping the quarantine index.
    static func admin(_ options: ConfigOption) throws -> (SluiceConfiguration, QueueAdmin) {
        let config = try options.loadAsDataOwner()
        let store = try QueueStore(directory: config.queueDirectory)
        let index = try options.storage(config).store((any QuarantineIndex).self)
        let observer = QuarantineIndexer(index: index, queue: store, node: config.hostname, logger: Logger(label: "sluice") { _ in SwiftLogNoOpLogHandler() })
        return (config, QueueAdmin(store: store, notifier: DaemonSignal(config: config, store: store), observer: observer, clock: WallClock()))
    }

    /// Unreadable messages are reported on stderr, never skipped silently.
    static func reportUnreadable(_ id: QueueID, _ error: any Error) {
        FileHandle.standardError.write(Data("sluice: \(id): \(error)\n".utf8))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued messages.")
        @OptionGroup var options: ConfigOption
        @Flag(name: .long, help: "One JSON document instead of a table.") var json = false
        @Flag(name: .long, help: "Only messages held in quarantine by a rule (the same as --state quarantined).") var quarantine = false
        @OptionGroup var filter: QueueFilter

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let store = admin.store
            var filter = self.filter
            if quarantine { filter.state = QueueState.quarantined.rawValue }
            // What the queue could not read: never skipped silently (unless other states were asked for).
            let corrupt = filter.state == nil || filter.state == "corrupt" ? try store.corruptFiles() : []
            let out = StandardOutput()
            if json {
                try QueueCommand.streamJSON(filter.selection, admin, corrupt: corrupt, write: out.write)
                out.flush()
                return
            }
            for c in corrupt {
                FileHandle.standardError.write(Data("sluice: unreadable queue file kept in \(store.directory)/corrupt/\(c.name) (\(c.size) bytes)\n".utf8))
            }
            let count = try QueueCommand.streamTable(filter.selection, admin, write: out.write)
            out.flush()
            if count == 0 {
                print(quarantine ? "Quarantine is empty" : filter.isEmpty ? "Mail queue is empty" : "No queued message matches")
            }
        }
    }

    /// `queue list`, printed as the queue is read (a chunk of files at a time): the columns are fixed
    /// but the last two, so the first lines need not wait for the last file. Returns the count.
    @discardableResult
    static func streamTable(_ filter: QueueSelection, _ admin: QueueAdmin, write: (String) -> Void) throws -> Int {
        guard filter.state != "corrupt" else { return 0 }
        var count = 0
        var bytes = 0
        func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }
        try admin.forEachMatch(filter, unreadable: reportUnreadable) { rows in
            var text = ""
            for e in rows {
                if count == 0 { text += pad("ID", 18) + pad("SIZE", 10) + pad("QUEUED", 22) + pad("STATE", 13) + pad("SENDER", 32) + "RECIPIENTS\n" }
                count += 1
                bytes += e.size
                text += pad(e.id.rawValue, 18) + pad("\(e.size)", 10) + pad(iso(e.queuedAt), 22) + pad(e.state.rawValue, 13)
                    + pad(e.senderDescription, 32) + e.recipients.joined(separator: ",") + "\n"
            }
            write(text)
        }
        if count > 0 { write("-- \(count) message(s), \(bytes) bytes\n") }
        return count
    }

    /// `queue list --json`, written as the queue is read: one message object per line inside "messages".
    static func streamJSON(_ filter: QueueSelection, _ admin: QueueAdmin, corrupt: [(name: String, size: Int)], write: (String) -> Void) throws {
        var count = 0
        write("{\n  \"messages\" : [")
        if filter.state != "corrupt" {
            try admin.forEachMatch(filter, unreadable: reportUnreadable) { rows in
                var text = ""
                for e in rows {
                    text += (count == 0 ? "\n    " : ",\n    ") + jsonLine(e)
                    count += 1
                }
                write(text)
            }
        }
        let damaged = corrupt.map { ["file": "corrupt/\($0.name)", "size": $0.size, "state": "corrupt"] as [String: Any] }
        let tail = try JSONSerialization.data(withJSONObject: damaged, options: [.sortedKeys, .withoutEscapingSlashes])
        write("\n  ],\n  \"count\" : \(count),\n  \"corrupt\" : \(String(decoding: tail, as: UTF8.self))\n}\n")
    }

    /// ISO 8601 in UTC, whole seconds (ISO8601Time: the format style was a fifth of `queue list`'s time).
    static func iso(_ date: Date) -> String { ISO8601Time.utc(date) }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one message's envelope, plan and state.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String
        @Flag(name: .long, help: "One JSON document.") var json = false
        @Flag(name: .long, help: "Also print the message bytes.") var body = false

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let e = try admin.entry(id)
            let store = admin.store
            if json {
                var object = QueueCommand.summary(QueueListing(e))
                object["delivery"] = e.routes.map(QueueCommand.deliveryFacts)
                print(try QueueCommand.jsonText(object))
            } else {
                print("id:          \(e.id)")
                print("state:       \(e.state.rawValue)")
                print("queued:      \(QueueCommand.iso(e.queuedAt))")
                print("size:        \(e.size)")
                print("sender:      \(e.envelope.senderDescription)")
                print("client:      \(e.envelope.client.address.map(\.description) ?? "?") helo=\(e.envelope.client.helo ?? "-") listener=\(e.envelope.client.listener)")
                for r in e.routes {
                    print("route:       \(r.route.target) [\(r.status.rawValue), \(r.attempts) attempt(s)] -> \(r.route.recipients.map(\.description).joined(separator: ", "))")
                    if let at = r.lastAttemptAt {
                        let remote = r.lastRemote.map { " at \($0) (\($0.transport))" } ?? ""
                        let reply = r.lastReply.map { " \(r.lastReplyFromRemote == true ? "replied" : "said") \(SMTPReply(code: $0.code, status: $0.status, lines: $0.lines))" } ?? ""
                        print("last try:    \(QueueCommand.iso(at))\(remote)\(reply)")
                    }
                    if let err = r.lastError { print("last error:  \(err)") }
                    if let notBefore = r.notBefore, r.status == .pending { print("not before:  \(QueueCommand.iso(notBefore))") }
                }
                print("next try:    \(QueueCommand.iso(e.nextAttempt))")
            }
            if body, let data = FileManager.default.contents(atPath: store.messagePath(for: e.id)) {
                print("")
                FileHandle.standardOutput.write(data.prefix(e.size))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete messages from the queue (they will not be delivered): one id, or every match of the filters with --yes.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id (or use filters).") var id: String?
        @OptionGroup var filter: QueueFilter
        @Flag(name: .long, help: "Confirm deleting every message the filters match.") var yes = false

        func validate() throws {
            guard (id != nil) != !filter.isEmpty else { throw ValidationError("give a queue id or filters (--state, --from, --to-domain, --older)") }
            if id == nil && !yes { throw ValidationError("deleting every match needs --yes (see them first with `sluice queue list` and the same filters)") }
        }

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let deleted = try await admin.delete(try admin.targets(id, filter.selection))
            if id != nil, deleted.isEmpty { throw UserError("no message \(id!.uppercased()) in the queue") }
            print(id != nil ? "deleted \(deleted[0])" : "deleted \(deleted.count) message(s)")
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages by destination domain and age in minutes (like Postfix's qshape).")
        @OptionGroup var options: ConfigOption
        @OptionGroup var filter: QueueFilter
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let (total, domains) = try admin.summary(filter.selection)
            let headers = ["T"] + QueueSummary.buckets.map(String.init) + ["\(QueueSummary.buckets.last!)+"]
            if json {
                func row(_ r: QueueSummary.Row) -> [String: Any] {
                    ["domain": r.domain, "total": r.total, "by_age_minutes": Dictionary(uniqueKeysWithValues: zip(headers.dropFirst(), r.counts))]
                }
                print(try QueueCommand.jsonText(["total": row(total), "domains": domains.map(row)]))
                return
            }
            let table = TextTable(headers: ["DOMAIN"] + headers)
            for r in [total] + domains { table.add([r.domain, "\(r.total)"] + r.counts.map(String.init)) }
            print(table.render(), terminator: "")
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Try deferred messages again now (like postqueue -f / -i).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id (or --all, or filters).") var id: String?
        @Flag(name: .long, help: "Every deferred message.") var all = false
        @OptionGroup var filter: QueueFilter

        func validate() throws {
            guard [id != nil, all, !filter.isEmpty].filter({ $0 }).count == 1 else { throw ValidationError("give a queue id, --all, or filters") }
        }

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let ids = all ? try admin.store.ids() : try admin.targets(id, filter.selection)
            // Many messages and a daemon running: it makes them due now, nothing rewritten first (one id: written,
            // so that a held or missing one is an error here).
            if id == nil, !ids.isEmpty, all ? await admin.retryAllInDaemon() : await admin.retryInDaemon(ids) {
                print("\(ids.count) message(s) handed to the running daemon to attempt now (held ones stay held)")
                return
            }
            let result = try await admin.retry(ids)
            if id != nil, let gone = result.gone.first { throw UserError("no message \(gone) in the queue") }
            if id != nil, let held = result.held.first { throw UserError("\(held) is held; release it first") }
            print("\(result.scheduled.count) message(s) scheduled for delivery now")
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop delivering messages until `queue release` (like postsuper -h): one id, or every match of the filters.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id (or use filters).") var id: String?
        @OptionGroup var filter: QueueFilter

        func validate() throws {
            guard (id != nil) != !filter.isEmpty else { throw ValidationError("give a queue id or filters") }
        }

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let held = try await admin.hold(try admin.targets(id, filter.selection))
            if id != nil, held.isEmpty { throw UserError("no message \(id!.uppercased()) in the queue") }
            print(id != nil ? "held \(held[0])" : "held \(held.count) message(s)")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a message from quarantine (or hold): deliver it as its rules decided.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id (or use filters).") var id: String?
        @OptionGroup var filter: QueueFilter

        func validate() throws {
            guard (id != nil) != !filter.isEmpty else { throw ValidationError("give a queue id or filters") }
        }

        func run() async throws {
            let (_, admin) = try QueueCommand.admin(options)
            let result = try await admin.release(try admin.targets(id, filter.selection))
            if id != nil, let gone = result.gone.first { throw UserError("no message \(gone) in the queue") }
            if id != nil, let notHeld = result.notHeld.first { throw UserError("\(notHeld) is not held or quarantined") }
            let released = result.released
            print(id != nil ? "released \(released[0])" : "released \(released.count) message(s)")
        }
    }

    /// A message as `queue list --json` and `quarantine list --json` show it.
    /// What the last attempt of a route did, for `queue show --json`.
    static func deliveryFacts(_ r: RouteState) -> [String: Any] {
        let reply = r.lastReply.map { SMTPReply(code: $0.code, status: $0.status, lines: $0.lines) }
        return [
            "target": r.route.target.description, "recipients": r.route.recipients.map(\.description), "status": r.status.rawValue,
            "last_attempt_at": r.lastAttemptAt.map(iso) ?? NSNull(),
            "reply": reply.map { ["code": $0.code, "status": $0.status?.description ?? NSNull(), "text": $0.lines.joined(separator: " ")] as [String: Any] }
                ?? NSNull(),
            "reply_from_remote": r.lastReplyFromRemote ?? NSNull(),
            "remote": r.lastRemote.map { remote -> [String: Any] in
                [
                    "host": remote.name, "address": remote.address ?? NSNull(), "port": remote.port ?? NSNull(),
                    "tls_version": remote.transport.tlsVersion ?? NSNull(), "tls_cipher": remote.transport.tlsCipher ?? NSNull(),
                    "verified_by": remote.transport.verifiedBy ?? NSNull(), "tls_policy": remote.transport.policy ?? NSNull(),
                ]
            } ?? NSNull(),
            "not_before": r.notBefore.map(iso) ?? NSNull(),
        ]
    }

    static func summary(_ e: QueueListing) -> [String: Any] {
        [
            "id": e.id.rawValue, "size": e.size, "queued_at": iso(e.queuedAt),
            "state": e.state.rawValue, "sender": e.sender ?? "",
            "recipients": e.recipients,
            "next_attempt": iso(e.nextAttempt),
            "routes": e.routes.map { r -> [String: Any] in
                ["target": r.target, "status": r.status.rawValue, "attempts": r.attempts,
                 "recipients": r.recipients, "last_error": r.lastError ?? NSNull()]
            },
        ]
    }

    /// `summary(e)` as one line of JSON with sorted keys, written directly: JSONSerialization of a dictionary
    /// per message was most of `queue list --json`'s time at 100,000 messages (the test compares the two).
    static func jsonLine(_ e: QueueListing) -> String {
        func q(_ s: String) -> String { LogLineFormat.quote(s) }
        func list(_ items: [String]) -> String { "[" + items.map(q).joined(separator: ",") + "]" }
        let routes = e.routes.map { r in
            "{\"attempts\":\(r.attempts),\"last_error\":\(r.lastError.map(q) ?? "null"),\"recipients\":\(list(r.recipients)),"
                + "\"status\":\(q(r.status.rawValue)),\"target\":\(q(r.target))}"
        }
        return "{\"id\":\(q(e.id.rawValue)),\"next_attempt\":\(q(iso(e.nextAttempt))),\"queued_at\":\(q(iso(e.queuedAt))),"
            + "\"recipients\":\(list(e.recipients)),\"routes\":[\(routes.joined(separator: ","))],\"sender\":\(q(e.sender ?? "")),"
            + "\"size\":\(e.size),\"state\":\(q(e.state.rawValue))}"
    }

    static func jsonText(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
