// RouteAttempt: what one delivery attempt makes of a route, from the target's
// per-recipient report: the route splits into its delivered recipients, those
// refused for good, those deferred (retried on the schedule) and those told
// "not before T" (waiting without counting an attempt or growing the back-off,
// though max_delivery_time still runs), each state keeping the reply, the
// remote host and what the transport did. Pure: the queue manager logs and
// stores what it returns.

import Foundation
import SluiceCore
import SluiceQueue

enum RouteAttempt {
    enum Kind: Equatable {
        case delivered
        /// Retried on the retry schedule.
        case deferred
        /// Not before the route's `notBefore`: no attempt counted.
        case waiting
        case failed
    }

    struct Part {
        var state: RouteState
        var kind: Kind
        var result: RecipientResult
    }

    /// `expired`: the route's max_delivery_time has passed (a deferral is then a failure).
    static func split(_ state: RouteState, report: DeliveryReport, now: Date, expired: Bool) -> [Part] {
        var parts: [Part] = []
        for r in state.route.recipients {
            let result = report.result(for: r)
            let kind = self.kind(result, onFailure: state.route.onFailure, expired: expired)
            let key = "\(result.reply.map { "\($0)" } ?? "") \(result.remote.map { "\($0) \($0.transport)" } ?? "")"
            if let i = parts.firstIndex(where: {
                $0.kind == kind && "\($0.result.reply.map { "\($0)" } ?? "") \($0.result.remote.map { "\($0) \($0.transport)" } ?? "")" == key
                    && $0.result.status == result.status
            }) {
                parts[i].state.route.recipients.append(r)
                continue
            }
            var next = state
            next.route.recipients = [r]
            next.lastReply = result.reply?.record
            next.lastRemote = result.remote
            next.lastReplyFromRemote = result.reply == nil ? nil : result.fromRemote
            next.lastAttemptAt = now
            next.notBefore = nil
            switch kind {
            case .delivered:
                next.attempts += 1
                next.status = .delivered
                next.lastError = nil
            case .waiting:
                if case .deferred(let notBefore?) = result.status { next.notBefore = notBefore }
                next.lastError = result.error.description
                next.lastErrorReply = result.error.reply.record
            case .deferred, .failed:
                next.attempts += 1
                next.lastError = result.error.description
                next.lastErrorReply = result.error.reply.record
                if kind == .failed { next.status = .failed }
            }
            parts.append(Part(state: next, kind: kind, result: result))
        }
        return parts
    }

    static func kind(_ result: RecipientResult, onFailure: OnFailure, expired: Bool) -> Kind {
        switch result.status {
        case .delivered: return .delivered
        case .deferred(let notBefore): return expired ? .failed : notBefore == nil ? .deferred : .waiting
        case .failed: return expired || onFailure != .defer ? .failed : .deferred
        }
    }
}
