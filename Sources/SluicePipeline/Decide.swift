// Decide: the listener's rule set evaluated for each recipient (Mail Manager
// semantics, R-RULES), the signing policy, and the resulting delivery plan.
// The daemon and `sluice rules test` both end here, with the same verdicts
// in, so a dry run gives the daemon's answer. Pure.

import Logging
import SluiceCore
import SluiceRules

public struct Decision: Sendable {
    /// nil: the listener has no rule set (its mail goes to delivery.store).
    public var ruleSet: RuleSet?
    public var outcomes: [RecipientOutcome]
    /// A rule's reject: the message is refused at end of DATA with it.
    public var reject: SMTPError?
    public var signing: SigningPolicy.Decision
    public var plan: DeliveryPlan
}

public enum Decide {
    public static func decide(_ message: ReceivedMessage, runtime: Runtime) -> Decision {
        let recipients = message.envelope.recipients.map(\.address)
        let signing = SigningPolicy.decide(message.verdicts.sender, client: message.envelope.client, hasKeys: runtime.canSign)
        let set = runtime.ruleSet(forListener: message.envelope.client.listener)
        var outcomes: [RecipientOutcome] = []
        var plan: DeliveryPlan
        if let set {
            let context = RuleContext(
                sender: message.envelope.sender, client: message.envelope.client, headers: message.headers, size: message.size,
                verdicts: message.verdicts)
            outcomes = recipients.map { RuleEvaluator.evaluate(set, recipient: $0, context: context) }
            var note = signing.note
            let ruled = Set(outcomes.flatMap(\.dkimDomains)).subtracting(signing.domains).sorted()
            if !ruled.isEmpty { note += "; signed for \(ruled.joined(separator: ", ")) by a dkim_sign rule" }
            plan = RulesPlanner.plan(outcomes, signFor: signing.domains, signingNote: note)
        } else {
            plan = DeliveryPlan(
                routes: [Route(target: runtime.fallbackRoute, recipients: recipients, signing: signing.domains)], signingNote: signing.note)
        }
        // What the verify stage found (Authentication-Results) goes on top of every copy, above each route's own headers.
        let trace = message.verdicts.values.compactMap { ($0 as? any TraceHeaderVerdict)?.traceHeader(authservID: runtime.config.hostname) }
        for i in plan.routes.indices { plan.routes[i].addHeaders.insert(contentsOf: trace, at: 0) }
        return Decision(
            ruleSet: set, outcomes: outcomes, reject: outcomes.first { $0.reject != nil }?.reject, signing: signing, plan: plan)
    }
}

extension Decision {
    /// One `rule` event per recipient: the rules that matched and the actions they chose.
    public func log(_ logger: Logger, queueID: QueueID) {
        for o in outcomes {
            logger.event(
                .rule, "rules evaluated",
                [.queueID: queueID.rawValue, .recipient: o.recipient.description,
                 .rule: o.trace.filter(\.matched).map(\.rule).joined(separator: ","), .actions: o.actionLog.joined(separator: "; ")])
        }
    }
}
