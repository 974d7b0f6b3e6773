// ArchiveTextRelease: lets go of a message's IndexText in the handoff once
// no archive delivery of it is waiting to run: at once when its plan archives
// nothing (or only after a release from quarantine), and after its archive
// routes are done. A delivery that later finds nothing reads the text again.

import SluiceCore
import SluiceDLP
import SluiceQueue

struct ArchiveTextRelease: QueueObserver {
    let handoff: MessageHandoff

    func queued(_ entry: QueueEntry) async { release(entry.id, unlessWaiting: entry) }

    func changed(_ id: QueueID, to entry: QueueEntry?) async { release(id, unlessWaiting: entry) }

    private func release(_ id: QueueID, unlessWaiting entry: QueueEntry?) {
        let waiting = entry?.routes.contains { $0.route.target.isArchive && $0.status == .pending && !$0.route.held } ?? false
        if !waiting { handoff.drop(IndexText.self, for: id) }
    }
}
