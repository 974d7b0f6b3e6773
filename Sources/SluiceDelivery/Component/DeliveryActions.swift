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
        let v = try NamedTargetValue.parse(
            value, action: key, field: "upstream", section: "upstreams", noun: "upstream", known: upstreams, noneText: "none are configured")
        return DeliverAction(
            delivery: Delivery(target: .relay(upstream: v.name), onFailure: v.onFailure, maxDeliveryTime: v.maxDeliveryTime),
            logText: "relay \(v.name)")
    }
}

/// The value of a delivering action that names a configured instance: `NAME`, or `{ FIELD: NAME, on_failure,
/// max_delivery_time }` (relay:, deliver_lmtp:, webhook:). A name not configured is an error at its place.
public struct NamedTargetValue: Sendable {
    public var name: String
    public var onFailure = OnFailure.continue
    public var maxDeliveryTime: Double?

    /// `section`: where the instances are configured ("upstreams"); `noun`: what one is called in messages.
    public static func parse(
        _ value: ConfigNode, action: String, field: String, section: String, noun: String, known: Set<String>,
        noneText: String = "none is configured"
    ) throws -> NamedTargetValue {
        var v: NamedTargetValue
        if value.isScalar {
            v = NamedTargetValue(name: try value.nonEmptyString())
        } else {
            let m = try value.mapping(allowed: [field, "on_failure", "max_delivery_time"])
            guard let n = m[field] else { throw value.error("\(action) needs '\(field):' (a name under \(section):)") }
            v = NamedTargetValue(name: try n.nonEmptyString())
            v.onFailure = try RuleLoader.failurePolicy(m["on_failure"], default: .continue)
            v.maxDeliveryTime = try m["max_delivery_time"]?.duration()
        }
        guard known.contains(v.name) else {
            let list = known.isEmpty ? noneText : "known: \(known.sorted().joined(separator: ", "))"
            throw value.error("\(noun) '\(v.name)' is not defined under \(section): in the config (\(list))")
        }
        return v
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
