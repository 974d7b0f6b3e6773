// The daemon's services, in ServiceGroup order (started in this order,
// stopped in reverse): queue manager, admin listener, reload handler, SMTP listeners.

import Foundation
import Logging
import ServiceLifecycle
import NIOPosix
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceQueue
import SluiceServer
import UnixSignals

/// Runs the queue manager until graceful shutdown.
/// SIGUSR1 (sent by `sluice queue release|retry`) makes it read the messages named in the queue's notices again.
struct QueueService: Service {
    let manager: QueueManager
    let rescans: UnixSignalsSequence

    func run() async throws {
        let manager = self.manager
        let rescans = self.rescans
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // Returns after stop(), once the attempts in flight have finished — not cancelled: an attempt
                // cancelled halfway through its bookkeeping (the quarantine index) would log a false error.
                group.addTask { await manager.run() }
                // Ends at the shutdown signal.
                group.addTask {
                    for await _ in rescans.cancelOnGracefulShutdown() { await manager.changedElsewhere() }
                }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            Task { await manager.stop() }
        }
    }
}

/// Keeps the admin listener open until shutdown.
struct AdminService: Service {
    let server: AdminServer

    func run() async throws {
        try? await gracefulShutdown()
        await server.close()
    }
}

/// Holds the SMTP listeners open until graceful shutdown; then stops
/// accepting, lets each session finish its transaction in flight (then 421),
/// and after `grace` seconds closes what is left with a 421.
struct ListenerService: Service {
    let listeners: [SMTPListener]
    let grace: Double
    let readiness: Readiness
    let clock: any SluiceClock
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        readiness.stopping()
        SystemdNotifier().notify("STOPPING=1\nSTATUS=finishing sessions in flight")
        logger.event(.stopping, level: .notice, "stopping: no new connections, draining sessions")
        for l in listeners { await l.close() }
        for l in listeners { l.sessions.broadcast(.drain) }
        let deadline = clock.now().addingTimeInterval(grace)
        while clock.now() < deadline && listeners.contains(where: { $0.sessions.count > 0 }) {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        let left = listeners.reduce(0) { $0 + $1.sessions.count }
        if left > 0 {
            logger.event(.stopping, level: .notice, "grace period over: closing sessions", [.size: "\(left)"])
            for l in listeners { l.sessions.broadcast(.forceClose) }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
    }
}
