// DaemonSignal: how a command in another process tells a running daemon that
// the queue changed (released, held, deleted): a notice naming the messages,
// then SIGUSR1; its queue manager reads those messages again. No daemon
// running: nothing to tell (its next start reads the whole queue). A retry is
// a notice of its own: the daemon makes the messages due now, nothing written.

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

    func retryNow(_ ids: [QueueID]) async -> Bool { ask(ids, .retry) }
    func retryAll() async -> Bool { ask([], .retryAll) }

    /// A retry notice and the signal; false (nothing left behind) when no daemon runs or the notice cannot be left.
    private func ask(_ ids: [QueueID], _ kind: QueueStore.NoticeKind) -> Bool {
        // No runtime state (or one left by a daemon that is gone) means no daemon to ask: the caller writes instead.
        guard let state = try? RuntimeState.read(config), kill(state.pid, 0) == 0 else { return false }
        do { try store.postNotice(ids, kind: kind) } catch { return false }
        return kill(state.pid, SIGUSR1) == 0
    }
}
