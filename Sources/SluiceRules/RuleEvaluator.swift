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
    /// Whether this copy may be DKIM-signed: an archive keeps the message as it arrived.
    public var signable: Bool

    public init(target: RouteTarget, onFailure: OnFailure = .continue, maxDeliveryTime: Double? = nil, signable: Bool = true) {
        self.target = target
        self.onFailure = onFailure
        self.maxDeliveryTime = maxDeliveryTime
        self.signable = signable
    }
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
    /// What actions ask of the modifiers for this recipient's routes, by name (RouteMarks).
    public var marks: [String: [String]] = [:]
    public var quarantined = false
    /// Which rule quarantined the recipient and why ("rule NAME (when ...: yes)"), for `sluice quarantine`.
    public var quarantinedBy: String?
    public var dropped = false
    public var reject: SMTPError?
    public var trace: [RuleTrace] = []
    public var actionLog: [String] = []

    public init(recipient: MailAddress, deliverTo: [MailAddress]) {
        self.recipient = recipient
        self.deliverTo = deliverTo
    }

    /// Adds a delivery, once.
    public mutating func deliver(_ d: Delivery) {
        if !deliveries.contains(d) { deliveries.append(d) }
    }

    /// Adds a value to a mark, once.
    public mutating func mark(_ name: String, _ value: String) {
        if !(marks[name] ?? []).contains(value) { marks[name, default: []].append(value) }
    }
}

public enum RuleEvaluator {
    public static func evaluate(_ set: RuleSet, recipient: MailAddress, context: RuleContext) -> RecipientOutcome {
        var out = RecipientOutcome(recipient: recipient, deliverTo: [recipient])
        rules: for rule in set.rules {
            var why = "no conditions"
            var matched = true
            for c in rule.when {
                if !c.matches(recipient, context) {
                    matched = false
                    why = "when \(c.explanation): no"
                    break
                }
                why = "when \(c.explanation): yes"
            }
            if matched {
                for c in rule.unless where c.matches(recipient, context) {
                    matched = false
                    why = "unless \(c.explanation): yes"
                    break
                }
            }
            out.trace.append(RuleTrace(rule: rule.name, matched: matched, why: why))
            guard matched else { continue }
            let match = RuleMatch(rule: rule.name, why: why)
            for action in rule.actions {
                let flow = action.apply(to: &out, match, context)
                out.actionLog.append(action.logText)
                if flow == .stop { break rules }
            }
        }
        return out
    }
}
