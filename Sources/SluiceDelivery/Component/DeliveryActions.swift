// The delivering actions of the rule language for the targets of this
// module: `store:` (a directory of .eml files), `relay:` (an upstream pool,
// which must be configured), `send` (the recipient domain's MX hosts) and
// `bounce` (deliver nothing: a DSN with the rule's reply). Each may set
// `on_failure:`, and store, relay and send `max_delivery_time:`.

import SluiceConfig
import SluiceCore
import SluiceRules

/// Delivers the recipient to one target.
public struct DeliverAction: RuleAction {
    public let delivery: Delivery
    public let logText: String

    /// A component's delivering action (`deliver_lmtp:`) is this with its own route target.
    public init(delivery: Delivery, logText: String) {
        self.delivery = delivery
        self.logText = logText
    }

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.deliver(delivery)
        return .next
    }

    public var routes: [RouteTarget] { [delivery.target] }
}

/// `store: var/outbox` or `store: { path, on_failure, max_delivery_time }`.
public struct StoreActionKind: RuleActionKind {
    public let key = "store"
    public init() {}

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        if value.isScalar {
            let directory = loader.resolvePath(try value.nonEmptyString())
            return DeliverAction(delivery: Delivery(target: .store(directory: directory)), logText: "store \(directory)")
        }
        let sm = try value.mapping(allowed: ["path", "on_failure", "max_delivery_time"])
        guard let p = sm["path"] else { throw value.error("store needs 'path:' (a directory)") }
        let directory = loader.resolvePath(try p.nonEmptyString())
        let delivery = Delivery(
            target: .store(directory: directory), onFailure: try RuleLoader.failurePolicy(sm["on_failure"], default: .continue),
            maxDeliveryTime: try sm["max_delivery_time"]?.duration())
        return DeliverAction(delivery: delivery, logText: "store \(directory)")
    }
}

/// `relay: smarthost` or `relay: { upstream, on_failure, max_delivery_time }`.
public struct RelayActionKind: RuleActionKind {
    public let key = "relay"
    /// The pools under `upstreams:`.
    let upstreams: Set<String>

    public init(upstreams: Set<String>) { self.upstreams = upstreams }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        var name: String
        var onFailure = OnFailure.continue
        var max: Double?
        if value.isScalar {
            name = try value.nonEmptyString()
        } else {
            let rm = try value.mapping(allowed: ["upstream", "on_failure", "max_delivery_time"])
            guard let u = rm["upstream"] else { throw value.error("relay needs 'upstream:' (a name under upstreams:)") }
            name = try u.nonEmptyString()
            onFailure = try RuleLoader.failurePolicy(rm["on_failure"], default: .continue)
            max = try rm["max_delivery_time"]?.duration()
        }
        guard upstreams.contains(name) else {
            let known = upstreams.isEmpty ? "none are configured" : "known: \(upstreams.sorted().joined(separator: ", "))"
            throw value.error("upstream '\(name)' is not defined under upstreams: in the config (\(known))")
        }
        return DeliverAction(
            delivery: Delivery(target: .relay(upstream: name), onFailure: onFailure, maxDeliveryTime: max), logText: "relay \(name)")
    }
}

/// `- send`, `- send: {}` or `- send: { on_failure: defer, max_delivery_time: 2h }`.
public struct SendActionKind: RuleActionKind {
    public let key = "send"
    public var allowsBareWord: Bool { true }
    public init() {}

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        if value.isNull { return DeliverAction(delivery: Delivery(target: .send), logText: "send") }
        let sm = try value.mapping(allowed: ["on_failure", "max_delivery_time"])
        let delivery = Delivery(
            target: .send, onFailure: try RuleLoader.failurePolicy(sm["on_failure"], default: .continue),
            maxDeliveryTime: try sm["max_delivery_time"]?.duration())
        return DeliverAction(delivery: delivery, logText: "send")
    }
}

/// `bounce` or `bounce: { code, status, message }`: accept, deliver nothing to this recipient, and send the sender a
/// DSN with this reply.
public struct BounceAction: RuleAction {
    public let error: SMTPError

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        let e = error.reply
        outcome.deliveries = [
            Delivery(target: .bounce(code: e.code, status: e.status ?? .init(5, 0, 0), text: e.lines.joined(separator: " ")))
        ]
        return .stop
    }

    public var logText: String { "bounce \(error.reply)" }
    public var routes: [RouteTarget] { [.bounce(code: error.reply.code, status: error.reply.status ?? .init(5, 0, 0), text: "")] }

    public struct Kind: RuleActionKind {
        public let key = "bounce"
        public init() {}

        public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            BounceAction(error: try RuleLoader.reply(value, bounce: true))
        }
    }
}
