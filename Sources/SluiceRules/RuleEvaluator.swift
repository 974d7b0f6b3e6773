// RuleEvaluator: Mail Manager semantics, per envelope recipient: every rule
// whose `when` conditions all match and whose `unless` conditions all fail
// runs its actions in order; drop, reject and stop end evaluation. Pure; it
// also records why each rule matched or not, for `sluice rules test`.

import Foundation
import SluiceCore

/// What the rules see of a message.
public struct RuleContext: Sendable {
    public var sender: MailAddress?
    public var client: ClientInfo
    public var headers: MessageHeaders
    public var size: Int
    /// What the verify and inspect stages found.
    public var verdicts: MessageVerdicts

    public init(sender: MailAddress?, client: ClientInfo, headers: MessageHeaders, size: Int, verdicts: MessageVerdicts = MessageVerdicts()) {
        self.sender = sender
        self.client = client
        self.headers = headers
        self.size = size
        self.verdicts = verdicts
    }
}

/// One delivering action chosen for a recipient.
public struct Delivery: Sendable, Hashable {
    public var target: RouteTarget
    public var onFailure: OnFailure
    public var maxDeliveryTime: Double?
}

public struct RuleTrace: Sendable {
    public var rule: String
    public var matched: Bool
    /// The condition that decided, in words.
    public var why: String
}

public struct RecipientOutcome: Sendable {
    public var recipient: MailAddress
    /// After replace_recipient.
    public var deliverTo: [MailAddress]
    public var deliveries: [Delivery] = []
    public var addHeaders: [String] = []
    public var subjectTags: [String] = []
    /// Domains a `dkim_sign` action asks to sign for.
    public var dkimDomains: [String] = []
    public var quarantined = false
    /// Which rule quarantined the recipient and why ("rule NAME (when ...: yes)"), for `sluice quarantine`.
    public var quarantinedBy: String?
    public var dropped = false
    public var reject: SMTPError?
    public var trace: [RuleTrace] = []
    public var actionLog: [String] = []
}

public enum RuleEvaluator {
    public static func evaluate(_ set: RuleSet, recipient: MailAddress, context: RuleContext) -> RecipientOutcome {
        var out = RecipientOutcome(recipient: recipient, deliverTo: [recipient])
        rules: for rule in set.rules {
            var why = "no conditions"
            var matched = true
            for c in rule.when {
                if !matches(c, recipient: recipient, context: context) {
                    matched = false
                    why = "when \(describe(c)): no"
                    break
                }
                why = "when \(describe(c)): yes"
            }
            if matched {
                for c in rule.unless where matches(c, recipient: recipient, context: context) {
                    matched = false
                    why = "unless \(describe(c)): yes"
                    break
                }
            }
            out.trace.append(RuleTrace(rule: rule.name, matched: matched, why: why))
            guard matched else { continue }
            for action in rule.actions {
                switch action {
                case .store(let directory, let onFailure, let max):
                    let d = Delivery(target: .store(directory: directory), onFailure: onFailure, maxDeliveryTime: max)
                    if !out.deliveries.contains(d) { out.deliveries.append(d) }
                    out.actionLog.append("store \(directory)")
                case .relay(let upstream, let onFailure, let max):
                    let d = Delivery(target: .relay(upstream: upstream), onFailure: onFailure, maxDeliveryTime: max)
                    if !out.deliveries.contains(d) { out.deliveries.append(d) }
                    out.actionLog.append("relay \(upstream)")
                case .archive(let name, let onFailure):
                    // Archiving never gives up on its own: a full disk waits (defer) rather than losing the copy.
                    let d = Delivery(target: .archive(name: name), onFailure: onFailure, maxDeliveryTime: nil)
                    if !out.deliveries.contains(d) { out.deliveries.append(d) }
                    out.actionLog.append("archive \(name)")
                case .send(let onFailure, let max):
                    let d = Delivery(target: .send, onFailure: onFailure, maxDeliveryTime: max)
                    if !out.deliveries.contains(d) { out.deliveries.append(d) }
                    out.actionLog.append("send")
                case .quarantine:
                    out.quarantined = true
                    if out.quarantinedBy == nil { out.quarantinedBy = "rule \(rule.name) (\(why))" }
                    out.actionLog.append("quarantine")
                case .drop:
                    out.dropped = true
                    out.actionLog.append("drop")
                    break rules
                case .reject(let e):
                    out.reject = e
                    out.actionLog.append("reject \(e.reply)")
                    break rules
                case .bounce(let e):
                    out.deliveries = [
                        Delivery(
                            target: .bounce(code: e.reply.code, status: e.reply.status ?? .init(5, 0, 0), text: e.reply.lines.joined(separator: " ")),
                            onFailure: .continue, maxDeliveryTime: nil)
                    ]
                    out.actionLog.append("bounce \(e.reply)")
                    break rules
                case .addHeader(let name, let value):
                    out.addHeaders.append("\(name): \(value)")
                    out.actionLog.append("add_header \(name)")
                case .replaceRecipient(let addresses):
                    out.deliverTo = addresses
                    out.actionLog.append("replace_recipient \(addresses.map(\.description).joined(separator: ","))")
                case .tagSubject(let tag):
                    if !out.subjectTags.contains(tag) { out.subjectTags.append(tag) }
                    out.actionLog.append("tag_subject \(tag)")
                case .dkimSign(let domain):
                    if !out.dkimDomains.contains(domain) { out.dkimDomains.append(domain) }
                    out.actionLog.append("dkim_sign \(domain)")
                case .stop:
                    out.actionLog.append("stop")
                    break rules
                }
            }
        }
        return out
    }

    static func matches(_ condition: Condition, recipient: MailAddress, context: RuleContext) -> Bool {
        switch condition {
        case .any(let conditions):
            return conditions.contains { matches($0, recipient: recipient, context: context) }
        case .sizeAbove(let n): return context.size > n
        case .sizeBelow(let n): return context.size < n
        case .clientIP(let networks):
            guard let ip = context.client.address else { return false }
            return networks.contains { $0.contains(ip) }
        case .tls(let wanted): return context.client.usesTLS == wanted
        case .tlsVersionAtLeast(let v):
            guard let have = context.client.tlsVersion else { return false }
            return rank(have) >= rank(v)
        case .authenticated(let wanted): return (context.client.authenticatedUser != nil) == wanted
        case .authentication(let method, let wanted):
            guard let have = context.verdicts.authentication?.value(of: method) else { return false }
            return wanted.contains(have)
        case .dlp(let profile, let minCount):
            guard let found = context.verdicts.inspection?.profiles[profile] else { return false }
            return found.count >= (minCount ?? found.minCount)
        case .unscannable(let reasons, let wanted):
            let found = context.verdicts.inspection?.unscannable ?? []
            let matching = found.contains { reasons?.contains($0.reason) ?? true }
            return matching == wanted
        case .string(let field, let op):
            let values = self.values(field, recipient: recipient, context: context)
            return values.contains { test(op, $0, isAddress: field.holdsAddresses) }
        }
    }

    static func values(_ field: StringField, recipient: MailAddress, context: RuleContext) -> [String] {
        switch field {
        case .sender: return [context.sender.map(addressText) ?? ""]
        case .recipient: return [addressText(recipient)]
        case .helo: return context.client.helo.map { [$0] } ?? []
        case .listener: return [context.client.listener]
        case .user: return context.client.authenticatedUser.map { [$0] } ?? []
        case .attachmentName: return context.verdicts.inspection?.attachments.compactMap(\.name) ?? []
        case .attachmentType: return context.verdicts.inspection?.attachments.map(\.contentType) ?? []
        case .header(let name):
            let raw = context.headers.values(name).map { HeaderDecoding.decodeEncodedWords($0) }
            guard field.holdsAddresses else { return raw }
            return raw.flatMap { mailboxAddresses(inAddressList: $0) }
        }
    }

    static func addressText(_ a: MailAddress) -> String { "\(a.unquotedLocalPart)@\(a.normalizedDomain)" }

    static func test(_ op: StringOperator, _ value: String, isAddress: Bool) -> Bool {
        let v = value.lowercased()
        switch op {
        case .equals(let xs): return xs.contains { $0.lowercased() == v }
        case .contains(let xs): return xs.contains { v.contains($0.lowercased()) }
        case .startsWith(let xs): return xs.contains { v.hasPrefix($0.lowercased()) }
        case .endsWith(let xs): return xs.contains { v.hasSuffix($0.lowercased()) }
        case .domain(let xs):
            guard let at = v.lastIndex(of: "@") else { return false }
            var d = String(v[v.index(after: at)...])
            if d.hasSuffix(".") { d.removeLast() }
            return xs.contains { p in
                let p = p.lowercased()
                return p.hasPrefix(".") ? d.hasSuffix(p) : d == p
            }
        case .matches(let re): return re.matches(value)
        case .inList(let list): return isAddress && list.contains(v)
        }
    }

    static func rank(_ v: String) -> Int { v == "TLSv1.3" ? 13 : v == "TLSv1.2" ? 12 : 0 }

    static func describe(_ c: Condition) -> String {
        switch c {
        case .any(let cs): return "any(\(cs.map(describe).joined(separator: " | ")))"
        case .sizeAbove(let n): return "size > \(n)"
        case .sizeBelow(let n): return "size < \(n)"
        case .clientIP(let ns): return "client_ip in \(ns.map(\.description).joined(separator: ","))"
        case .tls(let b): return "tls is \(b)"
        case .tlsVersionAtLeast(let v): return "tls_version >= \(v)"
        case .authenticated(let b): return "authenticated is \(b)"
        case .authentication(let method, let wanted): return "\(method.rawValue) is \(wanted.joined(separator: " or "))"
        case .dlp(let profile, let minCount): return "dlp profile \(profile) found\(minCount.map { " at least \($0) times" } ?? "")"
        case .unscannable(let reasons, let wanted):
            let which = reasons.map { " (\($0.map(\.rawValue).sorted().joined(separator: " or ")))" } ?? ""
            return wanted ? "an attachment could not be scanned\(which)" : "every attachment was scanned\(which)"
        case .string(let f, let op):
            switch op {
            case .equals(let xs): return "\(f) equals \(xs.joined(separator: ","))"
            case .contains(let xs): return "\(f) contains \(xs.joined(separator: ","))"
            case .startsWith(let xs): return "\(f) starts_with \(xs.joined(separator: ","))"
            case .endsWith(let xs): return "\(f) ends_with \(xs.joined(separator: ","))"
            case .domain(let xs): return "\(f) domain \(xs.joined(separator: ","))"
            case .matches(let re): return "\(f) matches /\(re.pattern)/"
            case .inList(let l): return "\(f) in_list \(l.name)"
            }
        }
    }
}
