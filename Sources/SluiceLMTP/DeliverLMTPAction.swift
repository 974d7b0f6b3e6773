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
        var name: String
        var onFailure = OnFailure.continue
        var max: Double?
        if value.isScalar {
            name = try value.nonEmptyString()
        } else {
            let m = try value.mapping(allowed: ["server", "on_failure", "max_delivery_time"])
            guard let s = m["server"] else { throw value.error("deliver_lmtp needs 'server:' (a name under lmtp:)") }
            name = try s.nonEmptyString()
            onFailure = try RuleLoader.failurePolicy(m["on_failure"], default: .continue)
            max = try m["max_delivery_time"]?.duration()
        }
        guard servers.contains(name) else {
            let known = servers.isEmpty ? "none is configured" : "known: \(servers.sorted().joined(separator: ", "))"
            throw value.error("LMTP server '\(name)' is not defined under lmtp: in the config (\(known))")
        }
        return DeliverAction(
            delivery: Delivery(target: RouteTarget(kind: "lmtp", instance: name), onFailure: onFailure, maxDeliveryTime: max),
            logText: "deliver_lmtp \(name)")
    }
}
