// TimerSleep: sleeping that gives its memory back when cancelled. A cancelled
// Task.sleep resumes at once, but its timer stays queued in the executor until
// the deadline it was given; the queue manager waits for "the next due time or
// an event" twice per message, with due times an hour away, so a backlog of
// 100,000 messages once held about 200,000 such timers (hundreds of MiB).
// A Dispatch timer source is cancelled for real.

import Dispatch
import Foundation
import Synchronization

enum TimerSleep {
    private static let queue = DispatchQueue(label: "sluice.timers")
    /// Timers set and not yet fired or cancelled.
    static let pending = Atomic<Int>(0)

    /// Returns after `seconds`, or at once when the task is (or gets) cancelled.
    static func sleep(seconds: Double) async {
        guard seconds > 0, !Task.isCancelled else { return }
        let timer = Timer(DispatchSource.makeTimerSource(queue: queue))
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                timer.start(after: seconds) { continuation.resume() }
                // Cancelled before the timer was set up: the handler below found nothing to cancel.
                if Task.isCancelled { timer.cancel() }
            }
        } onCancel: {
            timer.cancel()
        }
    }

    /// One timer source; resumes its waiter exactly once, when it fires or when it is cancelled.
    private final class Timer: @unchecked Sendable {
        private let source: any DispatchSourceTimer
        private let once = OnceFlag()

        init(_ source: any DispatchSourceTimer) { self.source = source }

        func start(after seconds: Double, _ resume: @escaping @Sendable () -> Void) {
            let once = self.once
            TimerSleep.pending.add(1, ordering: .relaxed)
            // A fired timer is cancelled too: the cancel handler is the one place it ends.
            source.setEventHandler { [source] in source.cancel() }
            source.setCancelHandler {
                TimerSleep.pending.subtract(1, ordering: .relaxed)
                if once.claim() { resume() }
            }
            source.schedule(deadline: .now() + seconds, leeway: .milliseconds(1))
            source.activate()
        }

        func cancel() { source.cancel() }
    }
}
