// The daemon's services, in ServiceGroup order (started in this order,
// stopped in reverse): queue manager, admin listener, reload handler, SMTP listeners.

import Foundation
import Logging
import ServiceLifecycle
import NIOPosix
import SluiceArchive
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluiceQueue
import SluiceServer
import UnixSignals

/// Runs the queue manager until graceful shutdown.
/// SIGUSR1 (sent by `sluice queue release`) makes it re-read the queue.
struct QueueService: Service {
    let manager: QueueManager
    let rescans: UnixSignalsSequence

    func run() async throws {
        let manager = self.manager
        let rescans = self.rescans
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await manager.run() }
                group.addTask {
                    for await _ in rescans.cancelOnGracefulShutdown() { await manager.rescan() }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await manager.stop() }
        }
    }
}

/// Probes resting upstream hosts until shutdown, so that traffic moves back as soon as they answer.
struct UpstreamProbeService: Service {
    let relay: RelayTarget

    func run() async throws {
        let relay = self.relay
        // A service that returns would end the whole group: with nothing to probe, wait for shutdown.
        await cancelWhenGracefulShutdown { await relay.runProbes() }
        try? await gracefulShutdown()
    }
}

/// Deletes archived messages past their archive's retention, a batch at a time so that writers
/// never wait long, every minute until shutdown.
struct ArchivePurgeService: Service {
    let store: (any ArchiveStore)?
    let archives: [String: ArchiveSettings]
    let io: NIOThreadPool
    let logger: Logger

    func run() async throws {
        guard let store, archives.values.contains(where: { $0.retention != nil }) else {
            try? await gracefulShutdown()
            return
        }
        let archives = self.archives
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let now = Date()
                let cutoffs = archives.values.reduce(into: [String: Date]()) { map, a in
                    if let r = a.retention { map[a.name] = now.addingTimeInterval(-r) }
                }
                var removed = 0
                while !Task.isCancelled, let n = try? await io.runIfActive({ try store.purge(before: cutoffs, batch: 500) }), n > 0 {
                    removed += n
                }
                if removed > 0 { logger.event(.removed, level: .notice, "archive retention: messages purged", [.count: "\(removed)"]) }
                try? await Task.sleep(for: .seconds(60))
            }
        }
        try? await gracefulShutdown()
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
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        readiness.stopping()
        SystemdNotifier().notify("STOPPING=1\nSTATUS=finishing sessions in flight")
        logger.event(.stopping, level: .notice, "stopping: no new connections, draining sessions")
        for l in listeners { await l.close() }
        for l in listeners { l.sessions.broadcast(.drain) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline && listeners.contains(where: { $0.sessions.count > 0 }) {
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
