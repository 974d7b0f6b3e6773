// RulesPlanner: the decide stage with rule sets. Evaluates the listener's rule
// set for each recipient, refuses the message at end of DATA if a rule rejects,
// and turns the outcomes into the routes stored with the message, so delivery
// never evaluates again. Listeners without a rule set use the fallback route.

import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceCore

/// The loaded rule sets by name, replaced as a whole on reload.
public final class RuleBook: Sendable {
    private let box: NIOLockedValueBox<[String: RuleSet]>

    public init(_ sets: [String: RuleSet]) { box = NIOLockedValueBox(sets) }

    public subscript(name: String) -> RuleSet? { box.withLockedValue { $0[name] } }
    public func replace(_ sets: [String: RuleSet]) { box.withLockedValue { $0 = sets } }
    public var names: [String] { box.withLockedValue { Array($0.keys).sorted() } }
}

public struct RulesPlanner: RoutePlanner {
    public let book: RuleBook
    /// Listener name -> rule set name.
    public let setForListener: [String: String]
    /// Where mail of listeners without a rule set goes.
    public let fallback: RouteTarget

    public init(book: RuleBook, setForListener: [String: String], fallback: RouteTarget) {
        self.book = book
        self.setForListener = setForListener
        self.fallback = fallback
    }

    public func plan(for message: ReceivedMessage, logger: Logger) async throws -> DeliveryPlan {
        let recipients = message.envelope.recipients.map(\.address)
        guard let name = setForListener[message.envelope.client.listener], let set = book[name] else {
            return DeliveryPlan(routes: [Route(target: fallback, recipients: recipients)])
        }
        let context = RuleContext(
            sender: message.envelope.sender, client: message.envelope.client, headers: message.headers, size: message.size,
            verdicts: message.annotations)
        let outcomes = recipients.map { RuleEvaluator.evaluate(set, recipient: $0, context: context) }
        for o in outcomes {
            let matched = o.trace.filter(\.matched).map(\.rule)
            logger.event(
                .rule, "rules evaluated",
                [.queueID: message.envelope.queueID.rawValue, .recipient: o.recipient.description,
                 .rule: matched.joined(separator: ","), .actions: o.actionLog.joined(separator: "; ")])
        }
        if let reject = outcomes.first(where: { $0.reject != nil })?.reject {
            throw reject
        }
        return Self.plan(outcomes)
    }

    /// Groups recipients that go to the same place with the same changes.
    public static func plan(_ outcomes: [RecipientOutcome]) -> DeliveryPlan {
        var routes: [Route] = []
        var dropped: [MailAddress] = []
        for o in outcomes {
            if o.dropped || o.deliveries.isEmpty {
                dropped.append(o.recipient)
                continue
            }
            for d in o.deliveries {
                let key = Route(
                    target: d.target, recipients: [], addHeaders: o.addHeaders, subjectTags: o.subjectTags, held: o.quarantined,
                    onFailure: d.onFailure, maxDeliveryTime: d.maxDeliveryTime)
                if let i = routes.firstIndex(where: { sameRoute($0, key) }) {
                    for r in o.deliverTo where !routes[i].recipients.contains(r) { routes[i].recipients.append(r) }
                } else {
                    var r = key
                    r.recipients = o.deliverTo
                    routes.append(r)
                }
            }
        }
        return DeliveryPlan(routes: routes, dropped: dropped)
    }

    static func sameRoute(_ a: Route, _ b: Route) -> Bool {
        a.target == b.target && a.addHeaders == b.addHeaders && a.subjectTags == b.subjectTags && a.held == b.held
            && a.onFailure == b.onFailure && a.maxDeliveryTime == b.maxDeliveryTime
    }
}
