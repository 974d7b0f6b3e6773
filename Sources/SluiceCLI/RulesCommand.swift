// `sluice rules test MESSAGE.eml`: what the daemon would do with a message,
// per recipient: each rule, matched or not and the condition that decided,
// the actions, the signing decision and the resulting delivery plan. It runs
// the daemon's own pipeline (SluicePipeline) on the file; the verify stage's
// results are given with --spf/--dkim/--dmarc. Sends nothing.

import ArgumentParser
import Foundation
import Logging
import NIOPosix
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluicePipeline
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
        @Option(name: .long, help: "SPF result the verify stage would give (pass, fail, softfail, neutral, none, temperror, permerror).")
        var spf: String?
        @Option(name: .long, help: "DKIM result (pass, fail, neutral, none, temperror, permerror).") var dkim: String?
        @Option(name: .long, help: "DMARC result (pass, fail, none, temperror, permerror).") var dmarc: String?
        @Option(name: .long, help: "The DMARC disposition with --dmarc (none, quarantine, reject).") var dmarcPolicy: String?
        @Flag(name: .long, help: "One JSON document.") var json = false

        /// The verify stage's results as given on the command line; nil when none is given.
        func suppliedAuthentication(fromDomain: String) throws -> AuthenticationResults? {
            guard spf != nil || dkim != nil || dmarc != nil else { return nil }
            func result(_ text: String, _ what: AuthenticationMethod) throws -> AuthResult {
                guard what.values.contains(text.lowercased()), let r = AuthResult(rawValue: text.lowercased()) else {
                    throw UserError("--\(what.rawValue) \(text): use one of \(what.values.joined(separator: ", "))")
                }
                return r
            }
            var results = AuthenticationResults()
            if let spf { results.spf = SPFVerdict(result: try result(spf, .spf), identity: fromDomain, scope: "mailfrom") }
            if let dkim {
                let r = try result(dkim, .dkim)
                results.dkim = r == .none ? [] : [DKIMVerdict(result: r, domain: fromDomain, selector: "", algorithm: "", signaturePrefix: "")]
            }
            if let dmarc {
                var policy: DMARCPolicy?
                if let dmarcPolicy {
                    guard let p = DMARCPolicy(rawValue: dmarcPolicy.lowercased()) else {
                        throw UserError("--dmarc-policy \(dmarcPolicy): use none, quarantine or reject")
                    }
                    policy = p
                }
                results.dmarc = DMARCVerdict(result: try result(dmarc, .dmarc), fromDomain: fromDomain, published: policy, disposition: policy)
            }
            return results
        }

        func run() async throws {
            let config = try options.load()
            let runtime = try options.runtime(config)
            guard let data = FileManager.default.contents(atPath: message) else { throw UserError("cannot read \(message)") }
            let bytes = [UInt8](data)
            let headers = MessageHeaders(parsing: bytes[..<Self.headerEnd(bytes)])
            guard let l = listener.map({ name in config.listeners.first { $0.name == name } }) ?? config.listeners.first else {
                throw UserError("no listener named \(listener ?? "")")
            }

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
            let envelope = Envelope(queueID: QueueID.generate(), sender: sender, recipients: recipients.map { Recipient(address: $0) }, client: client)
            let fromDomain = headers.first("From").flatMap { mailboxAddresses(inAddressList: $0).first }.map { String($0[$0.index(after: $0.lastIndex(of: "@")!)...]) }
                ?? sender?.domain ?? ""

            // The daemon's pipeline on this file, from the same components in dry-run mode: the same sender, inspect and
            // decide stages; the verify stage's results come from --spf/--dkim/--dmarc (nothing is looked up); DLP
            // sampling off, so the answer repeats.
            let executors = Executors.single()
            executors.start()
            let host = try Host.build(
                Components.standard,
                environment: HostEnvironment(
                    mode: .dryRun, runtime: RuntimeHolder(runtime), executors: executors,
                    logger: Logger(label: "sluice.rules-test") { _ in SwiftLogNoOpLogHandler() }))
            let pipeline = host.pipeline
            var received = ReceivedMessage(envelope: envelope, headers: headers, spoolPath: message, size: bytes.count)
            received.verdicts.authentication = try suppliedAuthentication(fromDomain: fromDomain)
            let decision: Decision
            var refusal: SMTPError?
            do {
                decision = try await pipeline.run(&received, runtime: runtime, logger: Logger(label: "sluice.rules-test") { _ in SwiftLogNoOpLogHandler() })
            } catch {
                // A stage refused the message (a From: the sender may not use): what the daemon answers.
                refusal = SMTPError.from(error)
                decision = Decide.decide(received, runtime: runtime)
            }
            await executors.shutdown(logger: Logger(label: "sluice.rules-test") { _ in SwiftLogNoOpLogHandler() })
            let reject = refusal ?? decision.reject
            let outcomes = decision.outcomes
            let plan = decision.plan
            let findings = received.verdicts.inspection?.findings ?? []
            let profiles = (received.verdicts.inspection?.profiles ?? [:]).mapValues(\.count)
            let setName = decision.ruleSet.map { "\($0.name) (\($0.file))" } ?? "none (delivery.store)"

            if json {
                let object: [String: Any] = [
                    "rule_set": decision.ruleSet?.name ?? NSNull(), "file": decision.ruleSet?.file ?? NSNull(), "listener": l.name,
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
                         "add_headers": r.addHeaders, "subject_tags": r.subjectTags, "quarantined": r.held, "dkim_sign": r.dkimDomains]
                    },
                    "dlp_findings": findings.map { ["detector": $0.detector, "part": $0.part, "offset": $0.offset, "snippet": $0.snippet] },
                    "dlp_profiles": profiles,
                    "dlp_unscannable": (received.verdicts.inspection?.unscannable ?? []).map {
                        ["path": $0.path, "reason": $0.reason.rawValue, "detail": $0.detail]
                    },
                    "attachments": (received.verdicts.inspection?.attachments ?? []).map { a -> [String: Any] in ["name": a.name ?? NSNull(), "type": a.contentType] },
                    "authentication": received.verdicts.authentication?.summary ?? NSNull(),
                    "sender_authorized_by": received.verdicts.sender?.principal ?? NSNull(),
                    "signing": plan.signingNote ?? decision.signing.note,
                ]
                let out = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                print(String(decoding: out, as: UTF8.self))
                return
            }
            print("rule set \(setName), listener \(l.name)")
            if let auth = received.verdicts.authentication { print("authentication: \(auth.summary)") }
            for o in outcomes {
                print("\nrecipient <\(o.recipient)>")
                for t in o.trace {
                    print("  \(t.matched ? "MATCH   " : "no match") \(t.rule): \(t.why)")
                }
                print("  actions: \(o.actionLog.isEmpty ? "none" : o.actionLog.joined(separator: "; "))")
                if o.deliveries.isEmpty && o.reject == nil { print("  note: no delivering action: this recipient is dropped") }
            }
            if findings.isEmpty {
                print("\nDLP findings: none")
            } else {
                print("\nDLP findings:")
                for f in findings { print("  \(f.detector) in \(f.part) at byte \(f.offset): \(f.snippet)") }
                print("  profiles: \(profiles.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))")
            }
            for u in received.verdicts.inspection?.unscannable ?? [] { print("  unscannable (\(u.reason.rawValue)): \(u.path): \(u.detail)") }
            print("signing: \(plan.signingNote ?? decision.signing.note)")
            if let reject {
                print("result: the message is refused at end of DATA with \(reject.reply)")
                return
            }
            print("result: accepted; plan:")
            for r in plan.routes {
                var extra: [String] = []
                if !r.addHeaders.isEmpty { extra.append("headers: \(r.addHeaders.joined(separator: " | "))") }
                if !r.subjectTags.isEmpty { extra.append("subject tags: \(r.subjectTags.joined(separator: " "))") }
                if !r.dkimDomains.isEmpty { extra.append("DKIM-signed for \(r.dkimDomains.joined(separator: ", "))") }
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
