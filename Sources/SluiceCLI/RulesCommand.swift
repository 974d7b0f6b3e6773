// `sluice rules test MESSAGE.eml`: what the daemon would do with a message,
// per recipient: each rule, matched or not and the condition that decided,
// the actions, the signing decision and the resulting delivery plan. It runs
// the daemon's own pipeline (SluicePipeline) on the file; the verify stage's
// results are given with --spf/--dkim/--dmarc, and the scanners' and DNS
// lists' with --spam-score/--spam-symbol/--virus/--dnsbl (without them, the
// configured scanners are asked). Sends nothing.

import ArgumentParser
import Foundation
import Logging
import NIOPosix
import SluiceAdmin
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluiceDNSList
import SluicePipeline
import SluiceRules
import SluiceScanners
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
        @Option(name: .long, help: "The spam score spamd would give (without it, a configured spamd is asked).") var spamScore: Double?
        @Option(name: .long, help: "spamd's threshold with --spam-score.") var spamThreshold = 5.0
        @Option(name: .long, help: "A SpamAssassin rule that would hit; repeat for several.") var spamSymbol: [String] = []
        @Option(name: .long, help: "The signature clamd would find (without it, a configured clamd is asked).") var virus: String?
        @Option(name: .long, help: "A DNS list (of dnsbl:) that lists the client, as NAME or NAME=CODE; repeat for several.") var dnsbl: [String] = []
        @Flag(name: .long, help: "One JSON document.") var json = false

        /// What the scanners and DNS lists would say, as given on the command line.
        func suppliedScans(into verdicts: inout MessageVerdicts) throws {
            if spamScore != nil || !spamSymbol.isEmpty {
                var spam = SpamResults()
                spam.score = spamScore ?? 0
                spam.threshold = spamThreshold
                spam.isSpam = spam.score >= spamThreshold
                spam.symbols = spamSymbol
                verdicts[SpamResults.self] = spam
            }
            if let virus { verdicts[VirusResults.self] = VirusResults(found: virus) }
            if !dnsbl.isEmpty {
                var lists = DNSListResults()
                for entry in dnsbl {
                    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                    guard IPAddress(parts.count == 2 ? parts[1] : "127.0.0.2") != nil else { throw UserError("--dnsbl \(entry): use NAME or NAME=127.0.0.N") }
                    lists.hits[parts[0]] = DNSListHit(code: parts.count == 2 ? parts[1] : "127.0.0.2", text: nil)
                }
                verdicts[DNSListResults.self] = lists
            }
        }

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
                try suppliedScans(into: &request.supplied)
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
