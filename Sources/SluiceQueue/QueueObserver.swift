// QueueObserver: told when the queue changes: a message committed (after its
// 250), a message's state changed by a delivery attempt or an operator, a
// message gone. Components that keep an index of the queue (quarantine) or
// learn from its outcomes (a suppression list) observe it instead of editing
// the queue manager.

import SluiceCore

public protocol QueueObserver: Sendable {
    /// A message was committed to the queue.
    func queued(_ entry: QueueEntry) async
    /// A message's state changed; nil: it left the queue (delivered, bounced, deleted).
    func changed(_ id: QueueID, to entry: QueueEntry?) async
}

/// Several observers as one, told in order.
public struct QueueObservers: QueueObserver {
    public let observers: [any QueueObserver]

    public init(_ observers: [any QueueObserver]) { self.observers = observers }

    public func queued(_ entry: QueueEntry) async {
        for o in observers { await o.queued(entry) }
    }

    public func changed(_ id: QueueID, to entry: QueueEntry?) async {
        for o in observers { await o.changed(id, to: entry) }
    }
}
