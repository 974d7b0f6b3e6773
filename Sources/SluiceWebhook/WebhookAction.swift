// `webhook: tickets` or `webhook: { name: tickets, on_failure, max_delivery_time }`:
// hand the recipient's copy to an application of `webhooks:`, which must be
// configured (a load error with file:line:column otherwise).

import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceRules

public struct WebhookActionKind: RuleActionKind {
    public let key = "webhook"
    let names: Set<String>

    public init(names: Set<String>) { self.names = names }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        let v = try NamedTargetValue.parse(value, action: key, field: "name", section: "webhooks", noun: "webhook", known: names)
        return WebhookAction(
            delivery: Delivery(target: RouteTarget(kind: "webhook", instance: v.name), onFailure: v.onFailure, maxDeliveryTime: v.maxDeliveryTime),
            logText: "webhook \(v.name)")
    }
}

/// Delivers to the webhook and records, with the route, the rule that did (the JSON names it).
struct WebhookAction: RuleAction {
    static let ruleMark = "webhook_rule"
    let delivery: Delivery
    let logText: String

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.deliver(delivery)
        outcome.mark(Self.ruleMark, match.rule)
        return .next
    }

    var routes: [RouteTarget] { [delivery.target] }
}
