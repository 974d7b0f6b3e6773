// AttemptMerge: how the end of a delivery attempt is written over the state an
// operator may have changed while it ran (hold, release, retry, delete).

import Foundation
import SluiceCore
import SluiceQueue

extension QueueStore.Change {
    /// The state after a delivery attempt, merged into the state on disk now. The attempt owns the routes it
    /// tried (their results, bounces); the operator owns `held`, quarantine releases of the other routes, and
    /// an earlier next attempt (a retry asked for while the attempt ran). A message deleted meanwhile stays
    /// deleted (the store returns nil before this runs).
    static func merge(
        _ results: [Int: [RouteState]], into current: QueueEntry, loadedNextAttempt: Date, retryDelay: Double, now: Date
    ) -> QueueStore.Change {
        var merged = current
        // Routes split only in attempts, and a message has one attempt at a time: the indices of the state on
        // disk are those the attempt started from.
        merged.routes = current.routes.enumerated().flatMap { results[$0.offset] ?? [$0.element] }
        if merged.isFinished { return .remove }
        // The next attempt: the retry schedule's for routes deferred as usual, a route's own "not before" otherwise.
        let scheduled = now.addingTimeInterval(retryDelay)
        let pending = merged.routes.filter { $0.status == .pending && !$0.route.held }
        let computed = pending.map { $0.notBefore ?? scheduled }.min() ?? scheduled
        // A retry asked for during the attempt (the state's next attempt moved earlier) is kept.
        merged.nextAttempt = current.nextAttempt != loadedNextAttempt ? min(current.nextAttempt, computed) : computed
        return .update(merged)
    }
}
