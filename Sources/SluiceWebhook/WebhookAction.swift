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
        var name: String
        var onFailure = OnFailure.continue
        var max: Double?
        if value.isScalar {
            name = try value.nonEmptyString()
        } else {
            let m = try value.mapping(allowed: ["name", "on_failure", "max_delivery_time"])
            guard let n = m["name"] else { throw value.error("webhook needs 'name:' (a name under webhooks:)") }
            name = try n.nonEmptyString()
            onFailure = try RuleLoader.failurePolicy(m["on_failure"], default: .continue)
            max = try m["max_delivery_time"]?.duration()
        }
        guard names.contains(name) else {
            let known = names.isEmpty ? "none is configured" : "known: \(names.sorted().joined(separator: ", "))"
            throw value.error("webhook '\(name)' is not defined under webhooks: in the config (\(known))")
        }
        return WebhookAction(
            delivery: Delivery(target: RouteTarget(kind: "webhook", instance: name), onFailure: onFailure, maxDeliveryTime: max),
            logText: "webhook \(name)")
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
