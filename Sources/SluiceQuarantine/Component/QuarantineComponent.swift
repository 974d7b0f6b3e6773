// QuarantineComponent: the quarantine index as a component: the embedded
// index (SQLite in the data directory), kept following the queue by a queue
// observer, and rebuilt from this node's queue when the daemon starts.
// (The `quarantine` rule action itself is the rule language's: a held route
// of the plan.)

import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import SluiceCore
import SluicePipeline
import SluiceQueue

public struct QuarantineComponent: Component {
    public let name = "quarantine"

    public init() {}

    public func provideStores(_ stores: inout StoreRegistry) {
        stores.provide((any QuarantineIndex).self) { context in
            try SQLiteQuarantineIndex(path: (context.config.dataDir as NSString).appendingPathComponent("quarantine.sqlite"))
        }
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon, let queue = host.environment.queue else { return }
        let env = host.environment
        let indexer = QuarantineIndexer(
            index: try env.storage.store((any QuarantineIndex).self), queue: queue, node: host.config.hostname, logger: env.logger,
            followsTheQueue: true)
        host.add(queueObserver: indexer)
        host.add(service: QuarantineRebuildService(indexer: indexer, io: env.executors.files, logger: env.logger))
    }
}

/// Rebuilds the index from the queue once, at the start (off the path of new mail), then waits for shutdown.
struct QuarantineRebuildService: Service {
    let indexer: QuarantineIndexer
    let io: NIOThreadPool
    let logger: Logger

    func run() async throws {
        do {
            try await indexer.rebuild(io: io)
        } catch {
            logger.event(.error, level: .error, "cannot rebuild the quarantine index from the queue", [.error: "\(error)"])
        }
        // A service that returns ends the group; cancellation (the shutdown) is the end this waits for.
        try? await gracefulShutdown()
    }
}
