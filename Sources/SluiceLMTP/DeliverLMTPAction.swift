// `deliver_lmtp: mailstore` or `deliver_lmtp: { server: mailstore, on_failure,
// max_delivery_time }`: deliver the recipient to a mail store of `lmtp:`,
// which must be configured (a load error with file:line:column otherwise).

import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceRules

public struct DeliverLMTPActionKind: RuleActionKind {
    public let key = "deliver_lmtp"
    let servers: Set<String>

    public init(servers: Set<String>) { self.servers = servers }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        let v = try NamedTargetValue.parse(value, action: key, field: "server", section: "lmtp", noun: "LMTP server", known: servers)
        return DeliverAction(
            delivery: Delivery(target: RouteTarget(kind: "lmtp", instance: v.name), onFailure: v.onFailure, maxDeliveryTime: v.maxDeliveryTime),
            logText: "deliver_lmtp \(v.name)")
    }
}
