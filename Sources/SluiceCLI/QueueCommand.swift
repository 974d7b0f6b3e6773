// `sluice queue list|show|delete`: look at and manage the on-disk queue, like
// mailq and postsuper. Works whether or not the daemon runs.

import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif
import SluiceConfig
import SluiceCore
import SluiceQueue

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Inspect and manage the mail queue.",
        subcommands: [List.self, Show.self, Delete.self, Retry.self, Hold.self, Release.self])

    static func openStore(_ options: ConfigOption) throws -> QueueStore {
        let config = try options.load()
        return try QueueStore(directory: config.queueDirectory)
    }

    /// The config, the store and the entry ID names; a clear error if it is not queued.
    static func load(_ options: ConfigOption, _ id: String) throws -> (SluiceConfiguration, QueueStore, QueueEntry) {
        let config = try options.load()
        let store = try QueueStore(directory: config.queueDirectory)
        let qid = try parseID(id)
        guard let entry = try store.load(qid) else { throw UserError("no message \(qid) in the queue") }
        return (config, store, entry)
    }

    static func parseID(_ text: String) throws -> QueueID {
        guard let id = QueueID(text.uppercased()) else { throw UserError("'\(text)' is not a queue id") }
        return id
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued messages.")
        @OptionGroup var options: ConfigOption
        @Flag(name: .long, help: "One JSON document instead of a table.") var json = false
        @Flag(name: .long, help: "Only messages held in quarantine by a rule.") var quarantine = false

        func run() async throws {
            let store = try QueueCommand.openStore(options)
            var rows: [QueueEntry] = []
            for (_, result) in store.entries() {
                switch result {
                case .success(let e): if !quarantine || e.isQuarantined { rows.append(e) }
                case .failure(let error): FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
                }
            }
            // What the queue could not read: never skipped silently.
            let corrupt = quarantine ? [] : store.corruptFiles()
            if json {
                let items = rows.map(QueueCommand.summary)
                let damaged = corrupt.map { ["file": "corrupt/\($0.name)", "size": $0.size, "state": "corrupt"] as [String: Any] }
                print(try QueueCommand.jsonText(["messages": items, "count": items.count, "corrupt": damaged]))
                return
            }
            for c in corrupt {
                FileHandle.standardError.write(Data("sluice: unreadable queue file kept in \(store.directory)/corrupt/\(c.name) (\(c.size) bytes)\n".utf8))
            }
            if rows.isEmpty {
                print(quarantine ? "Quarantine is empty" : "Mail queue is empty")
                return
            }
            let table = TextTable(headers: ["ID", "SIZE", "QUEUED", "STATE", "SENDER", "RECIPIENTS"])
            for e in rows {
                table.add([
                    e.id.rawValue, "\(e.size)", ISO8601DateFormatter().string(from: e.queuedAt), QueueCommand.state(e),
                    e.envelope.senderDescription,
                    e.envelope.recipients.map { $0.address.description }.joined(separator: ","),
                ])
            }
            print(table.render(), terminator: "")
            print("-- \(rows.count) message(s), \(rows.reduce(0) { $0 + $1.size }) bytes")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one message's envelope, plan and state.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String
        @Flag(name: .long, help: "One JSON document.") var json = false
        @Flag(name: .long, help: "Also print the message bytes.") var body = false

        func run() async throws {
            let (_, store, e) = try QueueCommand.load(options, id)
            if json {
                print(try QueueCommand.jsonText(QueueCommand.summary(e)))
            } else {
                print("id:          \(e.id)")
                print("state:       \(QueueCommand.state(e))")
                print("queued:      \(ISO8601DateFormatter().string(from: e.queuedAt))")
                print("size:        \(e.size)")
                print("sender:      \(e.envelope.senderDescription)")
                print("client:      \(e.envelope.client.address.map(\.description) ?? "?") helo=\(e.envelope.client.helo ?? "-") listener=\(e.envelope.client.listener)")
                for r in e.routes {
                    print("route:       \(r.route.target) [\(r.status.rawValue), \(r.attempts) attempt(s)] -> \(r.route.recipients.map(\.description).joined(separator: ", "))")
                    if let err = r.lastError { print("last error:  \(err)") }
                }
                print("next try:    \(ISO8601DateFormatter().string(from: e.nextAttempt))")
            }
            if body, let data = FileManager.default.contents(atPath: store.messagePath(for: e.id)) {
                print("")
                FileHandle.standardOutput.write(data.prefix(e.size))
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a message from the queue (it will not be delivered).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String

        func run() async throws {
            let (_, store, e) = try QueueCommand.load(options, id)
            try store.remove(e.id)
            print("deleted \(e.id)")
        }
    }

    /// Tells a running daemon to look at the queue again now (SIGUSR1).
    static func poke(_ config: SluiceConfiguration) {
        if let state = try? RuntimeState.read(config) { kill(state.pid, SIGUSR1) }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Try deferred messages again now (like postqueue -f / -i).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id (omit with --all).") var id: String?
        @Flag(name: .long, help: "Every deferred message.") var all = false

        func validate() throws {
            guard (id != nil) != all else { throw ValidationError("give a queue id or --all") }
        }

        func run() async throws {
            let config = try options.load()
            let store = try QueueStore(directory: config.queueDirectory)
            let ids = try id.map { [try QueueCommand.parseID($0)] } ?? store.ids()
            var count = 0
            for qid in ids {
                var held = false
                let after = try store.modify(qid) { e in
                    guard !e.held else {
                        held = true
                        return .keep
                    }
                    var e = e
                    e.nextAttempt = Date()
                    return .update(e)
                }
                if after == nil, id != nil { throw UserError("no message \(qid) in the queue") }
                if held, id != nil { throw UserError("\(qid) is held; release it first") }
                if after != nil && !held { count += 1 }
            }
            QueueCommand.poke(config)
            print("\(count) message(s) scheduled for delivery now")
        }
    }

    struct Hold: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop delivering a message until `queue release` (like postsuper -h).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String

        func run() async throws {
            let (_, store, e) = try QueueCommand.load(options, id)
            // Under the message's lock: a delivery attempt finishing meanwhile keeps the hold.
            guard try store.modify(e.id, { current in
                var held = current
                held.held = true
                return .update(held)
            }) != nil else { throw UserError("no message \(e.id) in the queue") }
            print("held \(e.id)")
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a message from quarantine (or hold): deliver it as its rules decided.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String

        func run() async throws {
            let (config, store, e) = try QueueCommand.load(options, id)
            let qid = e.id
            var wasHeld = true
            guard try store.modify(qid, { current in
                guard current.isQuarantined || current.held else {
                    wasHeld = false
                    return .keep
                }
                var released = current
                released.held = false
                for i in released.routes.indices { released.routes[i].route.held = false }
                released.nextAttempt = Date()
                return .update(released)
            }) != nil else { throw UserError("no message \(qid) in the queue") }
            guard wasHeld else { throw UserError("\(qid) is not held or quarantined") }
            QueueCommand.poke(config)
            print("released \(qid)")
        }
    }

    static func state(_ e: QueueEntry) -> String {
        if e.held { return "held" }
        if e.isQuarantined { return "quarantined" }
        return e.attempts == 0 ? "active" : "deferred"
    }

    static func summary(_ e: QueueEntry) -> [String: Any] {
        [
            "id": e.id.rawValue, "size": e.size, "queued_at": ISO8601DateFormatter().string(from: e.queuedAt),
            "state": state(e), "sender": e.envelope.sender?.description ?? "",
            "recipients": e.envelope.recipients.map { $0.address.description },
            "next_attempt": ISO8601DateFormatter().string(from: e.nextAttempt),
            "routes": e.routes.map { r -> [String: Any] in
                ["target": r.route.target.description, "status": r.status.rawValue, "attempts": r.attempts,
                 "recipients": r.route.recipients.map(\.description), "last_error": r.lastError ?? NSNull()]
            },
        ]
    }

    static func jsonText(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), as: UTF8.self)
    }
}
