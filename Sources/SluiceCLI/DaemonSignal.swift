// DaemonSignal: how a command in another process tells a running daemon that
// the queue changed (released, retried): SIGUSR1 makes its queue manager read
// the queue again. No daemon running: nothing to tell.

import Foundation
import SluiceAdmin
import SluiceConfig
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

struct DaemonSignal: QueueChangeNotifier {
    let config: SluiceConfiguration

    func queueChanged(_ ids: [QueueID]) async {
        guard !ids.isEmpty else { return }
        // No runtime state, or a daemon gone: the next start reads the queue anyway.
        guard let state = try? RuntimeState.read(config) else { return }
        kill(state.pid, SIGUSR1)
    }
}
