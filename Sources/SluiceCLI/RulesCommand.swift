// `sluice rules test MESSAGE.eml`: what the rules would do with a message,
// per recipient: each rule, matched or not and the condition that decided,
// the actions, and the resulting delivery plan. Sends nothing.

import ArgumentParser
import Foundation
import SluiceConfig
import SluiceCore
import SluiceDaemon
import SluiceDLP
import SluiceRules
import SluiceSMTP

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Work with rule sets.", subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what the rules would do with a message; sends nothing.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The message (.eml).") var message: String
        @Option(name: .long, help: "Envelope sender (default: the From: address).") var from: String?
        @Option(name: .long, help: "Envelope recipient; repeat for several (default: the To: addresses).") var to: [String] = []
        @Option(name: .long, help: "Client IP address.") var ip = "127.0.0.1"
        @Option(name: .long, help: "Listener the message arrives on (default: the first).") var listener: String?
        @Option(name: .long, help: "Authenticated user.") var auth: String?
        @Option(name: .long, help: "HELO name.") var helo = "client.example"
        @Flag(name: .long, help: "Pretend the client used TLS 1.3.") var tls = false
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let config = try options.load()
            guard let data = FileManager.default.contents(atPath: message) else { throw UserError("cannot read \(message)") }
            let bytes = [UInt8](data)
            let headerEnd = Self.headerEnd(bytes)
            let headers = MessageHeaders(parsing: bytes[..<headerEnd])
            guard let l = listener.map({ name in config.listeners.first { $0.name == name } }) ?? config.listeners.first else {
                throw UserError("no listener named \(listener ?? "")")
            }
            guard let setName = l.rules else { throw UserError("listener \(l.name) has no rule set (rules:)") }
            let sets = try Daemon.loadRules(config)
            guard let set = sets[setName] else { throw UserError("rule set \(setName) not loaded") }

            func address(_ text: String, what: String) throws -> MailAddress {
                do { return try AddressParser.parsePath(Substring(text), allowUTF8: true) } catch {
                    throw UserError("\(what) '\(text)' is not a valid address")
                }
            }
            let senderText = from ?? headers.first("From").flatMap { mailboxAddresses(inAddressList: $0).first }
            let sender = try senderText.map { try address($0, what: "sender") }
            let recipientTexts = to.isEmpty ? headers.values("To").flatMap { mailboxAddresses(inAddressList: $0) } : to
            guard !recipientTexts.isEmpty else { throw UserError("no recipient: give --to or a To: header") }
            let recipients = try recipientTexts.map { try address($0, what: "recipient") }
            guard let clientIP = IPAddress(ip) else { throw UserError("--ip \(ip) is not an IP address") }
            var client = ClientInfo(address: clientIP, listener: l.name)
            client.helo = helo
            client.authenticatedUser = auth
            if tls { client.tlsVersion = "TLSv1.3" }
            // DLP as the daemon runs it (every profile; sampling off so the answer is repeatable).
            let book = try DLPBook.load(rulesDirectory: config.rulesDir)
            let dlp = try DLPScanner(book: book).scan(bytes)
            var verdicts: [String: String] = [:]
            for (profile, count) in dlp.counts {
                verdicts["dlp.\(profile)"] = "\(count)"
                verdicts["dlp.\(profile).min"] = "\(book.profiles[profile]?.minCount ?? 1)"
            }
            let context = RuleContext(sender: sender, client: client, headers: headers, size: bytes.count, verdicts: verdicts)
            let outcomes = recipients.map { RuleEvaluator.evaluate(set, recipient: $0, context: context) }
            let reject = outcomes.first { $0.reject != nil }?.reject
            let plan = RulesPlanner.plan(outcomes)

            if json {
                let object: [String: Any] = [
                    "rule_set": set.name, "file": set.file, "listener": l.name,
                    "recipients": outcomes.map { o -> [String: Any] in
                        [
                            "recipient": o.recipient.description,
                            "rules": o.trace.map { ["rule": $0.rule, "matched": $0.matched, "why": $0.why] },
                            "actions": o.actionLog, "dropped": o.dropped || (o.deliveries.isEmpty && o.reject == nil),
                            "quarantined": o.quarantined, "reject": o.reject.map { "\($0.reply)" } ?? NSNull(),
                        ]
                    },
                    "result": reject.map { "reject \($0.reply)" } ?? "accept",
                    "routes": reject != nil ? [] : plan.routes.map { r -> [String: Any] in
                        ["target": r.target.description, "recipients": r.recipients.map(\.description),
                         "add_headers": r.addHeaders, "subject_tags": r.subjectTags, "quarantined": r.held]
                    },
                    "dlp_findings": dlp.findings.map { ["detector": $0.detector, "part": $0.part, "offset": $0.offset, "snippet": $0.snippet] },
                    "dlp_profiles": dlp.counts,
                ]
                let out = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: out, as: UTF8.self))
                return
            }
            print("rule set \(set.name) (\(set.file)), listener \(l.name)")
            for o in outcomes {
                print("\nrecipient <\(o.recipient)>")
                for t in o.trace {
                    print("  \(t.matched ? "MATCH   " : "no match") \(t.rule): \(t.why)")
                }
                print("  actions: \(o.actionLog.isEmpty ? "none" : o.actionLog.joined(separator: "; "))")
                if o.deliveries.isEmpty && o.reject == nil { print("  note: no delivering action: this recipient is dropped") }
            }
            if dlp.findings.isEmpty {
                print("\nDLP findings: none")
            } else {
                print("\nDLP findings:")
                for f in dlp.findings { print("  \(f.detector) in \(f.part) at byte \(f.offset): \(f.snippet)") }
                print("  profiles: \(dlp.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
            }
            if let reject {
                print("result: the message is refused at end of DATA with \(reject.reply)")
                return
            }
            print("result: accepted; plan:")
            for r in plan.routes {
                var extra: [String] = []
                if !r.addHeaders.isEmpty { extra.append("headers: \(r.addHeaders.joined(separator: " | "))") }
                if !r.subjectTags.isEmpty { extra.append("subject tags: \(r.subjectTags.joined(separator: " "))") }
                if r.held { extra.append("QUARANTINED") }
                print("  \(r.target) <- \(r.recipients.map(\.description).joined(separator: ", "))\(extra.isEmpty ? "" : " (" + extra.joined(separator: "; ") + ")")")
            }
            for d in plan.dropped { print("  dropped: \(d)") }
        }

        static func headerEnd(_ b: [UInt8]) -> Int {
            var i = 0
            while i + 1 < b.count {
                if b[i] == 10 && b[i + 1] == 10 { return i + 1 }
                if i + 3 < b.count && b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 2 }
                i += 1
            }
            return b.count
        }
    }
}
