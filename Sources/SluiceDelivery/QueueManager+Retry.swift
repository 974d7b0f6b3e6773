// An operator's "try again now" (`sluice queue retry` with the daemon running,
// or the admin API in its process), done where the due times live: each
// waiting message becomes due now and its routes' "not before" is ignored for
// that attempt. Nothing is written for it — the attempt writes the message's
// state as every attempt does — so a backlog of a million drains at the speed
// of delivery, not of rewriting a million state files first (as Postfix's
// `postqueue -f` asks qmgr). Like a flush request, it is not durable: a
// restart before the attempt keeps each message's own next attempt.

import SluiceCore

extension QueueManager {
    /// These messages, now. One being attempted goes again when its attempt ends; one the start's index has not
    /// reached yet is due now when it does; a held one stays held (a release schedules it).
    public func retryNow(_ ids: [QueueID]) {
        let now = clock.now()
        for id in ids {
            if book.state(of: id) == .held { continue }
            // Known or still to be indexed; an id the queue no longer has (indexed, unknown) is left out.
            guard due.contains(id) || due.isRunning(id) || !indexed else { continue }
            forced.insert(id)
            if !due.isRunning(id), let destination = due.destination(of: id) { due.set(id, at: now, destination: destination) }
        }
        wake.signal()
    }

    /// Every waiting message, now.
    public func retryAll() {
        if !indexed { retryAllWhileIndexing = true }
        retryNow(due.ids)
    }
}
