// `sluice rules test MESSAGE.eml`: what the daemon would do with a message,
// per recipient: each rule, matched or not and the condition that decided,
// the actions, the signing decision and the resulting delivery plan. It runs
// the daemon's own pipeline (SluicePipeline) on the file; the verify stage's
// results are given with --spf/--dkim/--dmarc. Sends nothing.

import ArgumentParser
import Foundation
import Logging
import NIOPosix
import SluiceAdmin
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
            let runtime = try await options.runtime(config)
            var request = DryRunRequest(messagePath: message)
            request.sender = from
            request.recipients = to
            request.clientIP = ip
            request.listener = listener
            request.authenticatedUser = auth
            request.helo = helo
            request.tls = tls
            let report: DryRunReport
            do {
                let (_, headers) = try DryRun.headers(ofFile: message)
                let sender = try from.map { try DryRun.address($0, what: "sender") }
                request.supplied.authentication = try suppliedAuthentication(fromDomain: DryRun.fromDomain(headers, sender: sender))
                report = try await DryRun.run(request, runtime: runtime, components: Components.standard)
            } catch let e as AdminError {
                throw UserError(e.description)
            }
            let (decision, received, l) = (report.decision, report.message, config.listeners.first { $0.name == report.listener }!)
            let reject = report.reject
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
                    "verdicts": Dictionary(received.verdicts.summaries.map { ($0.name, $0.summary) }) { a, _ in a },
                    "sender_authorized_by": received.verdicts.sender?.principal ?? NSNull(),
                    "signing": plan.signingNote ?? decision.signing.note,
                ]
                let out = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                print(String(decoding: out, as: UTF8.self))
                return
            }
            print("rule set \(setName), listener \(l.name)")
            if let auth = received.verdicts.authentication { print("authentication: \(auth.summary)") }
            // What other stages found (a scanner's score ...), one line each.
            for (name, summary) in received.verdicts.summaries where ![AuthenticationResults.name, InspectionResults.name, SenderAuthorization.name].contains(name) {
                print("verdict \(name): \(summary)")
            }
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
    }
}
