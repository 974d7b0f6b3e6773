// `sluice quarantine list|show|release|delete`: the messages a rule held in
// quarantine, with the rule and the reason, the DLP findings (redacted) and
// the authentication verdicts; released as their rules decided, to every
// recipient or to one (--to), or deleted. `queue list --quarantine` is the
// same list in the queue's terms.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceConfig
import SluiceCore
import SluiceQuarantine
import SluiceQueue

struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Review, release or delete quarantined messages.",
        subcommands: [List.self, Show.self, Release.self, Delete.self])

    static func admin(_ options: ConfigOption) throws -> QuarantineAdmin {
        let (config, queue) = try QueueCommand.admin(options)
        return QuarantineAdmin(index: try options.storage(config).store((any QuarantineIndex).self), queue: queue, node: config.hostname)
    }

    static func reasons(_ e: QueueEntry) -> [String] { e.quarantineReasons }
    static func quarantined(_ e: QueueEntry) -> [MailAddress] { e.quarantinedRecipients }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined messages with the rule that held them.")
        @OptionGroup var options: ConfigOption
        @Option(name: .long, help: "Only messages this rule quarantined.") var rule: String?
        @Option(name: .long, help: "Sender address or domain contains this.") var from: String?
        @Option(name: .long, help: "Quarantined longer ago than this (30m, 2h, 1d).") var older: String?
        @Flag(name: .long, help: "One JSON document.") var json = false

        func validate() throws {
            if let older, DurationText.parse(older) == nil { throw ValidationError("--older '\(older)' is not a duration like 30m, 2h or 1d") }
        }

        func run() async throws {
            let admin = try QuarantineCommand.admin(options)
            var query = QuarantineQuery()
            query.rule = rule
            query.from = from
            query.queuedBefore = older.flatMap(DurationText.parse).map { Date().addingTimeInterval(-$0) }
            let records = try await admin.list(query)
            if json {
                // This node's messages in full (as `quarantine show`); another node's as its index knows it.
                let rows = records.map { r -> [String: Any] in
                    guard r.node == admin.node, let e = try? admin.entry(r.queueID.rawValue) else { return QuarantineCommand.describe(r) }
                    var object = QuarantineCommand.describe(e)
                    object["node"] = r.node
                    object["subject"] = r.subject
                    return object
                }
                print(try QueueCommand.jsonText(["messages": rows, "count": rows.count]))
                return
            }
            guard !records.isEmpty else {
                print("Quarantine is empty" + (rule == nil && from == nil && older == nil ? "" : " for these filters"))
                return
            }
            let table = TextTable(headers: ["ID", "QUEUED", "SENDER", "HELD FOR", "RULE", "DLP"])
            for r in records {
                table.add([
                    r.queueID.rawValue, QueueCommand.iso(r.queuedAt), r.sender, r.recipients.joined(separator: ","), r.reasons.joined(separator: "; "),
                    r.verdicts[InspectionResults.name].flatMap { $0.isEmpty ? nil : $0 } ?? "-",
                ])
            }
            print(table.render(), terminator: "")
            print("-- \(records.count) message(s) in quarantine; sluice quarantine show ID")
        }
    }

    /// A message of another node, as the index records it.
    static func describe(_ r: QuarantineRecord) -> [String: Any] {
        [
            "id": r.queueID.rawValue, "node": r.node, "queued_at": QueueCommand.iso(r.queuedAt), "sender": r.sender, "subject": r.subject,
            "size": r.size, "state": QueueState.quarantined.rawValue, "quarantined_for": r.recipients, "reasons": r.reasons,
            "dlp": r.verdicts[InspectionResults.name] ?? NSNull(), "verdicts": r.verdicts,
        ]
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
            let e = try QuarantineCommand.admin(options).entry(id)
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
            let admin = try QuarantineCommand.admin(options)
            let e = try QueueAdmin.parseID(id)
            switch try await admin.release(id, only: to) {
            case .released(let released): print("released \(e) to \(released.map(\.description).joined(separator: ", "))")
            case .requested(let node): print("asked \(node), which holds \(e), to release it\(to.map { " to \($0.lowercased())" } ?? "") (applied at its next look at the shared store)")
            case .deleted: break
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a quarantined message (it will not be delivered).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "Queue id.") var id: String

        func run() async throws {
            let admin = try QuarantineCommand.admin(options)
            let e = try QueueAdmin.parseID(id)
            if case .requested(let node) = try await admin.delete(id) {
                print("asked \(node), which holds \(e), to delete it (applied at its next look at the shared store)")
            } else {
                print("deleted \(e)")
            }
        }
    }
}
