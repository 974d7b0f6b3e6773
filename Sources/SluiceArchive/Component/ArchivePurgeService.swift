// ArchivePurgeService: deletes archived messages past their archive's
// retention (legal holds excepted), a batch at a time so that writers never
// wait long, every minute of the injected clock until shutdown. A purge that
// fails is logged and counted (sluice_archive_purge_failures_total) and tried
// again the next minute: retention that silently stops would keep mail the
// organisation promised to delete.

import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SluiceCore

public struct ArchivePurgeService: Service {
    let store: any ArchiveStore
    /// The archives of the configuration in force (a reload may change retention).
    let archives: @Sendable () -> [String: ArchiveSettings]
    let clock: any SluiceClock
    let logger: Logger
    let interval: Double

    public init(
        store: any ArchiveStore, archives: @escaping @Sendable () -> [String: ArchiveSettings], clock: any SluiceClock, logger: Logger,
        interval: Double = 60
    ) {
        self.store = store
        self.archives = archives
        self.clock = clock
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await purgeOnce()
                await clock.sleep(for: interval)
            }
        }
    }

    /// Deletes what is past retention now; returns how many messages were removed (errors are logged and counted).
    @discardableResult
    public func purgeOnce() async -> Int {
        let now = clock.now()
        let cutoffs = archives().values.reduce(into: [String: Date]()) { map, a in
            if let r = a.retention { map[a.name] = now.addingTimeInterval(-r) }
        }
        guard !cutoffs.isEmpty else { return 0 }
        var removed = 0
        do {
            while !Task.isCancelled {
                let n = try await store.purge(before: cutoffs, batch: 500)
                guard n > 0 else { break }
                removed += n
            }
        } catch {
            Counter(label: "sluice_archive_purge_failures_total").increment()
            logger.event(.error, level: .error, "archive retention: purge failed; trying again in a minute", [.error: "\(error)"])
        }
        if removed > 0 { logger.event(.removed, level: .notice, "archive retention: messages purged", [.count: "\(removed)"]) }
        return removed
    }
}
