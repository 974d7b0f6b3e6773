// `sluice quarantine list|show|release|delete`: the messages a rule held in
// quarantine, with the rule and the reason, the DLP findings (redacted) and
// the authentication verdicts; released as their rules decided, to every
// recipient or to one (--to), or deleted. `queue list --quarantine` is the
// same list in the queue's terms.

import ArgumentParser
import Foundation
import SluiceConfig
import SluiceCore
import SluiceQueue

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Review, release or delete quarantined messages.",
        subcommands: [List.self, Show.self, Release.self, Delete.self])

    /// The quarantined routes' rule and reason, once each.
    static func reasons(_ e: QueueEntry) -> [String] {
        var out: [String] = []
        for r in e.routes where r.status == .pending && r.route.held {
            let why = r.route.quarantine ?? "a quarantine rule (queued before reasons were recorded)"
            if !out.contains(why) { out.append(why) }
        }
        return out
    }

    static func quarantined(_ e: QueueEntry) -> [MailAddress] {
        e.routes.filter { $0.status == .pending && $0.route.held }.flatMap(\.route.recipients)
    }

    static func load(_ options: ConfigOption, _ id: String) throws -> (SluiceConfiguration, QueueStore, QueueEntry) {
        let (config, store, e) = try QueueCommand.load(options, id)
        guard e.isQuarantined else { throw UserError("\(e.id) is not in quarantine (sluice queue show \(e.id))") }
        return (config, store, e)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined messages with the rule that held them.")
        @OptionGroup var options: ConfigOption
        @Option(name: .long, help: "Only messages this rule quarantined.") var rule: String?
        @Option(name: .long, help: "Sender address or domain contains this.") var from: String?
        @Option(name: .long, help: "Quarantined longer ago than this (30m, 2h, 1d).") var older: String?
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let store = try QueueCommand.openStore(options)
            var filter = try QueueFilter.parse(["--state", QueueState.quarantined.rawValue])
            filter.from = from
            filter.older = older
            try filter.validate()
            let rows = try filter.selectEntries(store).filter { e in
                rule.map { r in QuarantineCommand.reasons(e).contains { $0.hasPrefix("rule \(r) ") } } ?? true
            }
            if json {
                print(try QueueCommand.jsonText(["messages": rows.map(QuarantineCommand.describe), "count": rows.count]))
                return
            }
            guard !rows.isEmpty else {
                print("Quarantine is empty" + (rule == nil && from == nil && older == nil ? "" : " for these filters"))
                return
            }
            let table = TextTable(headers: ["ID", "QUEUED", "SENDER", "HELD FOR", "RULE", "DLP"])
            for e in rows {
                table.add([
                    e.id.rawValue, QueueCommand.iso(e.queuedAt), e.envelope.senderDescription,
                    QuarantineCommand.quarantined(e).map(\.description).joined(separator: ","),
                    QuarantineCommand.reasons(e).joined(separator: "; "), e.results?.inspection?.summary ?? "-",
                ])
            }
            print(table.render(), terminator: "")
            print("-- \(rows.count) message(s) in quarantine; sluice quarantine show ID")
        }
    }

    static func describe(_ e: QueueEntry) -> [String: Any] {
        var object = QueueCommand.summary(QueueListing(e))
        object["quarantined_for"] = quarantined(e).map(\.description)
        object["reasons"] = reasons(e)
        object["dlp"] = e.results?.inspection?.summary ?? NSNull()
        object["findings"] = (e.results?.inspection?.findings ?? []).map {
            ["detector": $0.detector, "part": $0.part, "offset": $0.offset, "snippet": $0.snippet]
        }
        object["unscannable"] = (e.results?.inspection?.unscannable ?? []).map {
            ["path": $0.path, "reason": $0.reason.rawValue, "detail": $0.detail]
        }
        object["authentication"] = e.results?.authentication?.summary ?? NSNull()
        return object
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Why a message is in quarantine: rule, reason, DLP findings, verdicts.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let (_, _, e) = try QuarantineCommand.load(options, id)
            if json {
                print(try QueueCommand.jsonText(QuarantineCommand.describe(e)))
                return
            }
            print("id:          \(e.id)")
            print("queued:      \(QueueCommand.iso(e.queuedAt))")
            print("sender:      \(e.envelope.senderDescription)")
            print("client:      \(e.envelope.client.address.map(\.description) ?? "?") listener=\(e.envelope.client.listener)")
            print("held for:    \(QuarantineCommand.quarantined(e).map(\.description).joined(separator: ", "))")
            for reason in QuarantineCommand.reasons(e) { print("why:         \(reason)") }
            print("dlp:         \(e.results?.inspection?.summary ?? "not scanned")")
            for f in e.results?.inspection?.findings ?? [] { print("  finding:   \(f.detector) in \(f.part) @\(f.offset): \(f.snippet)") }
            for u in e.results?.inspection?.unscannable ?? [] { print("  unscannable (\(u.reason.rawValue)): \(u.path): \(u.detail)") }
            print("auth:        \(e.results?.authentication?.summary ?? "not verified")")
            let others = e.routes.filter { !$0.route.held }
            for r in others { print("also:        \(r.route.target) [\(r.status.rawValue)] -> \(r.route.recipients.map(\.description).joined(separator: ", "))") }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a quarantined message: delivered as its rules decided, to every held recipient or to one (--to).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String
        @Option(name: .long, help: "Release only this recipient; the others stay in quarantine.") var to: String?

        func run() async throws {
            let (config, store, e) = try QuarantineCommand.load(options, id)
            let only = to?.lowercased()
            if let only, !QuarantineCommand.quarantined(e).contains(where: { $0.description.lowercased() == only }) {
                throw UserError("\(only) is not a quarantined recipient of \(e.id) (held for: \(QuarantineCommand.quarantined(e).map(\.description).joined(separator: ", ")))")
            }
            var released: [MailAddress] = []
            guard try store.modify(e.id, { current in
                var next = current
                var routes: [RouteState] = []
                for state in current.routes {
                    guard state.status == .pending && state.route.held else {
                        routes.append(state)
                        continue
                    }
                    let (go, stay) = state.route.recipients.reduce(into: ([MailAddress](), [MailAddress]())) { acc, r in
                        if only == nil || r.description.lowercased() == only { acc.0.append(r) } else { acc.1.append(r) }
                    }
                    if !stay.isEmpty {
                        var held = state
                        held.route.recipients = stay
                        routes.append(held)
                    }
                    if !go.isEmpty {
                        var free = state
                        free.route.recipients = go
                        free.route.held = false
                        routes.append(free)
                        released += go
                    }
                }
                next.routes = routes
                next.nextAttempt = Date()
                return .update(next)
            }) != nil else { throw UserError("no message \(e.id) in the queue") }
            QueueCommand.poke(config)
            print("released \(e.id) to \(released.map(\.description).joined(separator: ", "))")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a quarantined message (it will not be delivered).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String

        func run() async throws {
            let (_, store, e) = try QuarantineCommand.load(options, id)
            try store.remove(e.id)
            print("deleted \(e.id)")
        }
    }
}
