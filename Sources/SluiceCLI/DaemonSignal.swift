// DaemonSignal: how a command in another process tells a running daemon that
// the queue changed (released, retried): a notice naming the messages, then
// SIGUSR1; its queue manager reads those messages again. No daemon running:
// nothing to tell (its next start reads the whole queue).

import Foundation
import SluiceAdmin
import SluiceConfig
import SluiceCore
import SluiceQueue

#if canImport(Glibc)
import Glibc
#endif

struct DaemonSignal: QueueChangeNotifier {
    let config: SluiceConfiguration
    let store: QueueStore

    func queueChanged(_ ids: [QueueID]) async {
        guard !ids.isEmpty else { return }
        // No runtime state, or a daemon gone: the next start reads the queue anyway.
        guard let state = try? RuntimeState.read(config) else { return }
        do {
            try store.postNotice(ids)
        } catch {
            // Without a notice, the signal alone makes the daemon read the whole queue: slower, as complete.
            FileHandle.standardError.write(Data("sluice: could not leave a notice for the daemon (\(error)); it will read the whole queue\n".utf8))
        }
        kill(state.pid, SIGUSR1)
    }
}
