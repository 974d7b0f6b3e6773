// withDeadline: runs work, but answers by a deadline. The work is not
// interrupted (it may be CPU-bound, like a regular expression); its result is
// simply not waited for, and the caller gets the timeout error instead.

import Foundation

public func withDeadline<T: Sendable>(
    seconds: Double, onTimeout: @escaping @Sendable () -> any Error, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = OnceFlag()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let timer = Task {
            await TimerSleep.sleep(seconds: seconds)
            if Task.isCancelled { return }
            if once.claim() { continuation.resume(throwing: onTimeout()) }
        }
        Task {
            // The timer ends with the work: a sleeping timer per call would stay in memory until its deadline.
            do {
                let value = try await work()
                if once.claim() { continuation.resume(returning: value) }
            } catch {
                if once.claim() { continuation.resume(throwing: error) }
            }
            // Claimed first: the cancelled timer finds the answer given.
            timer.cancel()
        }
    }
}

/// True for the first caller only.
public final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false

    public init() {}

    public func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if taken { return false }
        taken = true
        return true
    }
}
