// QueueManagerNotifier: how an admin operation made in the daemon's own
// process (an HTTP admin API) tells the queue manager what it changed:
// directly, not by a signal.

import SluiceAdmin
import SluiceCore
import SluiceDelivery

public struct QueueManagerNotifier: QueueChangeNotifier {
    let manager: QueueManager

    public init(manager: QueueManager) { self.manager = manager }

    public func queueChanged(_ ids: [QueueID]) async { await manager.reschedule(ids) }

    public func retryNow(_ ids: [QueueID]) async -> Bool {
        await manager.retryNow(ids)
        return true
    }

    public func retryAll() async -> Bool {
        await manager.retryAll()
        return true
    }
}
