// DaemonShutdown: stops a daemon started in this process the way SIGTERM
// does (graceful: listeners close first, sessions finish, the queue stays),
// for programs that embed Sluice and for tests that run it in-process with
// components of their own.

import NIOConcurrencyHelpers
import ServiceLifecycle

public final class DaemonShutdown: Sendable {
    private let state = NIOLockedValueBox<(group: ServiceGroup?, asked: Bool)>((nil, false))

    public init() {}

    /// Starts the graceful shutdown now, or as soon as the daemon runs.
    public func stop() async {
        let group = state.withLockedValue { s -> ServiceGroup? in
            s.asked = true
            return s.group
        }
        await group?.triggerGracefulShutdown()
    }

    func attach(_ group: ServiceGroup) async {
        let asked = state.withLockedValue { s -> Bool in
            s.group = group
            return s.asked
        }
        if asked { await group.triggerGracefulShutdown() }
    }
}
