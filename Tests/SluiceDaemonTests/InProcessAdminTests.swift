// An admin operation made in the daemon's own process tells its queue manager
// directly: a held message released through QueueAdmin with the manager's
// notifier is delivered at once, without SIGUSR1 or a rescan.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceAdmin
import SluiceCore
import SluiceDaemon
import SluiceDelivery
import SluiceQueue
import SluiceTestSupport
import XCTest

/// Delivers everything; counts what it delivered.
final class CountingTarget: DeliveryTarget, @unchecked Sendable {
    let delivered = NIOLockedValueBox(0)

    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        delivered.withLockedValue { $0 += recipients.count }
        return DeliveryReport(detail: "counted")
    }
}

final class InProcessAdminTests: XCTestCase {
    func testAReleaseInTheDaemonsProcessIsDeliveredWithoutASignal() async throws {
        let dir = NSTemporaryDirectory() + "sluice-inprocess-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        let clock = ManualClock()
        let store = try QueueStore(directory: dir)
        let target = CountingTarget()
        let manager = QueueManager(
            store: store, targets: ["store": target], schedule: RetrySchedule(intervals: [3600], maxDeliveryTime: 86_400), io: io, clock: clock,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let id = QueueID.generate()
        let body = Array("Subject: held\r\n\r\nhi\r\n".utf8)
        let rcpt = MailAddress(localPart: "b", domain: "r.test")
        var entry = QueueEntry(
            envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
            plan: DeliveryPlan(routes: [Route(target: .store(directory: dir + "/out"), recipients: [rcpt])]), size: body.count, queuedAt: clock.now())
        entry.held = true
        try store.submit(body, entry)
        let running = Task { await manager.run() }
        // Held: nothing is due, the manager waits for an event only.
        for _ in 0..<1000 where !clock.deadlines.isEmpty { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(target.delivered.withLockedValue { $0 }, 0)
        let admin = QueueAdmin(store: store, notifier: QueueManagerNotifier(manager: manager), observer: nil, clock: clock)
        let released = try await admin.release([id])
        XCTAssertEqual(released.released, [id])
        for _ in 0..<5000 where FileManager.default.fileExists(atPath: store.messagePath(for: id)) {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        XCTAssertEqual(target.delivered.withLockedValue { $0 }, 1, "delivered once, on the manager's own notice")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.messagePath(for: id)))
        await manager.stop()
        await running.value
        try await io.shutdownGracefully()
    }
}
