// Deadline: an operation that answers within its time, or an error at that
// time. A task group would not do: it waits for its children, and a
// postgres-nio query on a connection that never answers does not stop when
// cancelled, so the caller (an SMTP session) would wait with it. Here the
// caller is answered at the deadline; the operation is cancelled and left to
// end on its own.

import NIOConcurrencyHelpers

enum Deadline {
    struct Expired: Error {}

    static func run<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let waiter = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])
        /// Answers the caller once; whoever comes second finds nothing to answer.
        @Sendable func answer(_ result: Result<T, any Error>) {
            let continuation = waiter.withLockedValue { w -> CheckedContinuation<T, any Error>? in
                defer { w = nil }
                return w
            }
            continuation?.resume(with: result)
            for t in tasks.withLockedValue({ $0 }) { t.cancel() }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                waiter.withLockedValue { $0 = continuation }
                let work = Task {
                    do { answer(.success(try await body())) } catch { answer(.failure(error)) }
                }
                let timer = Task {
                    do {
                        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                        answer(.failure(Expired()))
                    } catch {}  // cancelled: the work answered first
                }
                tasks.withLockedValue { $0 = [work, timer] }
                // The work may have answered before its task was kept: cancel the timer then.
                if waiter.withLockedValue({ $0 == nil }) { timer.cancel() }
            }
        } onCancel: {
            answer(.failure(CancellationError()))
        }
    }
}
