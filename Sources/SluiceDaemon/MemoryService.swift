// MemoryService: every `interval` of the injected clock, gives free heap
// memory back to the kernel when malloc holds more than 16 MiB of it free
// (after a burst, a drained backlog), and records the resident set and the queue
// manager's active set (messages it holds in memory, being attempted) and
// schedule (ids and due times of the queued messages) in /metrics.

import Metrics
import ServiceLifecycle
import SluiceCore
import SluiceDelivery
import SluicePipeline

struct MemoryService: Service {
    let manager: QueueManager
    let clock: any SluiceClock
    var interval: Double = 10

    func run() async throws {
        // Graceful shutdown cancels the sleep (the clock's sleep ends on cancellation).
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await clock.sleep(until: clock.now().addingTimeInterval(interval))
                if Task.isCancelled { return }
                if ProcessMemory.freeHeapBytes() > 16 << 20 { ProcessMemory.trim() }
                Gauge(label: "sluice_process_resident_bytes").record(ProcessMemory.residentBytes() ?? 0)
                Gauge(label: "sluice_queue_active").record(await manager.inFlight)
                Gauge(label: "sluice_queue_scheduled").record(await manager.depth)
            }
        }
    }
}

extension MemoryService {
    /// `sluice status`'s "memory": the resident set, what malloc holds free, and the queue manager's active set and
    /// schedule.
    static func status(_ manager: QueueManager) -> StatusSection {
        StatusSection(name: "memory") {
            .object([
                "resident_bytes": .int(Int64(ProcessMemory.residentBytes() ?? 0)),
                "free_heap_bytes": .int(Int64(ProcessMemory.freeHeapBytes())),
                "queue_active": .int(Int64(await manager.inFlight)),
                "queue_scheduled": .int(Int64(await manager.depth)),
            ])
        }
    }
}
