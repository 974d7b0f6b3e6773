// AdminRoutes: what the admin listener answers, from the daemon's live state.

import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus
import SluiceCore
import SluiceDelivery
import SluiceQueue
import SluicePipeline
import SluiceServer

/// The SMTP listeners once bound, for /status.
final class ListenerDirectory: Sendable {
    private let box = NIOLockedValueBox<[SMTPListener]>([])
    func set(_ listeners: [SMTPListener]) { box.withLockedValue { $0 = listeners } }
    var all: [SMTPListener] { box.withLockedValue { $0 } }
}

enum AdminRoutes {
    static func make(
        registry: PrometheusCollectorRegistry, readiness: Readiness, store: QueueStore, disk: DiskSpace, listeners: ListenerDirectory,
        runtime: RuntimeHolder, hostname: String, started: Date, clock: any SluiceClock, status: [StatusSection],
        census: @escaping @Sendable () async -> QueueCensus, adminAddress: @escaping @Sendable () -> String
    ) -> [String: AdminServer.Route] {
        let text = "text/plain; charset=utf-8"
        return [
            "/metrics": {
                // A queue directory that cannot be read leaves the gauges as they were, and is counted.
                do { try QueueGauges.update(await census(), store: store, disk: disk, now: clock.now()) } catch {
                    SluiceMetrics.queueScanFailed()
                }
                return (.ok, "text/plain; version=0.0.4; charset=utf-8", registry.emitToBuffer())
            },
            "/healthz": { (.ok, text, Array("ok\n".utf8)) },
            "/readyz": {
                if let why = readiness.notReadyReason { return (.serviceUnavailable, text, Array("not ready: \(why)\n".utf8)) }
                return (.ok, text, Array("ready\n".utf8))
            },
            "/status": {
                // The queue manager's census: no queue file is read, whatever the backlog.
                let queue = await census()
                let corrupt: Int
                do {
                    corrupt = try store.corruptFiles().count
                } catch {
                    return (.internalServerError, text, Array("cannot read the queue: \(error)\n".utf8))
                }
                var byState = Dictionary(uniqueKeysWithValues: QueueState.allCases.map { ($0.rawValue, queue.byState[$0] ?? 0) })
                byState["corrupt"] = corrupt
                let now = clock.now()
                let oldest = queue.oldest.map { max(0, now.timeIntervalSince($0.timestamp)) } ?? 0
                var object: [String: Any] = [
                    "admin": adminAddress(),
                    "hostname": hostname,
                    "pid": Int(getpid()),
                    "uptime_seconds": Int(now.timeIntervalSince(started)),
                    "ready": readiness.notReadyReason == nil,
                    "not_ready_reason": readiness.notReadyReason ?? NSNull(),
                    "listeners": listeners.all.map { ["name": $0.name, "port": $0.localPort, "connections": $0.limiter.current] },
                    "queue": [
                        "depth": queue.depth, "oldest_age_seconds": Int(oldest), "corrupt_files": corrupt,
                        "in_flight": queue.inFlight, "complete": queue.complete,
                        "free_bytes": disk.freeBytes() ?? -1, "min_free": disk.minFree, "space_low": disk.isLow,
                        "by_state": byState,
                    ],
                    "rules": runtime.current.ruleSets.isEmpty
                        ? "none (mail goes to delivery.store)" : runtime.current.ruleSets.keys.sorted().joined(separator: ", "),
                ]
                // The components' sections ("upstreams": each upstream host's health).
                for section in status { object[section.name] = await section.read().foundationObject }
                do {
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                    return (.ok, "application/json", Array(data) + [10])
                } catch {
                    // Never an empty 200: the caller (sluice status) says what went wrong.
                    return (.internalServerError, text, Array("cannot encode the status: \(error)\n".utf8))
                }
            },
        ]
    }
}

/// Messages by state, like `sluice queue list --state`: held by an operator, quarantined by a rule, deferred (tried
/// and waiting for a retry), active (not tried yet, or due), corrupt (unreadable, in corrupt/).
/// Queue depth and oldest age from the queue manager's census when scraped (corrupt/ is read: it holds few files).
enum QueueGauges {
    static func update(_ census: QueueCensus, store: QueueStore, disk: DiskSpace, now: Date) throws {
        let oldest = census.oldest.map { now.timeIntervalSince($0.timestamp) } ?? 0
        SluiceMetrics.queue(depth: census.depth, oldestAgeSeconds: max(0, oldest), corruptFiles: try store.corruptFiles().count)
        SluiceMetrics.queueSpace(freeBytes: disk.freeBytes() ?? 0, low: disk.isLow)
    }
}
