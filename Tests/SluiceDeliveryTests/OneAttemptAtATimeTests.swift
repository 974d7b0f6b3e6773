// A message is never attempted twice at once: an operator's release or retry,
// a rescan or a commit notice for a message being attempted does not put it
// back on the schedule while the attempt runs (it was once, and a released
// message was delivered twice when the background index and the release's
// notice crossed). The message is read again when its attempt ends.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

/// Blocks every delivery until `open()`; counts the deliveries begun.
final class GateTarget: DeliveryTarget, @unchecked Sendable {
    let begun = NIOLockedValueBox(0)
    private let gate = AsyncStream<Void>.makeStream()

    func open() { gate.continuation.finish() }

    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        begun.withLockedValue { $0 += 1 }
        for await _ in gate.stream {}
        return DeliveryReport(detail: "ok")
    }
}

/// A queue manager over a fresh queue directory (removed after the test) with one target for `store` routes, on a
/// manual clock: what the manager's own tests start from. Shut `io` down at the end.
struct ManagerFixture {
    let dir: String
    let io: NIOThreadPool
    let clock = ManualClock()
    let store: QueueStore
    let manager: QueueManager

    init(_ test: XCTestCase, target: any DeliveryTarget, retry: Double = 0) throws {
        let dir = NSTemporaryDirectory() + "sluice-manager-\(UUID().uuidString)"
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        self.dir = dir
        io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        store = try QueueStore(directory: dir)
        manager = QueueManager(
            store: store, targets: ["store": target], schedule: RetrySchedule(intervals: [retry], maxDeliveryTime: 86_400), io: io,
            clock: clock, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }
}

final class OneAttemptAtATimeTests: XCTestCase {
    func testNoticesDuringAnAttemptDoNotStartASecondOne() async throws {
        let target = GateTarget()
        let f = try ManagerFixture(self, target: target)
        let (dir, io, clock, store, manager) = (f.dir, f.io, f.clock, f.store, f.manager)
        let id = QueueID.generate()
        let body = Array("Subject: once\r\n\r\nhi\r\n".utf8)
        let rcpt = MailAddress(localPart: "b", domain: "r.test")
        let entry = QueueEntry(
            envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
            plan: DeliveryPlan(routes: [Route(target: .store(directory: dir + "/out"), recipients: [rcpt])]), size: body.count, queuedAt: clock.now())
        try store.submit(body, entry)
        let running = Task { await manager.run() }
        let deadline = Date().addingTimeInterval(20)
        while target.begun.withLockedValue({ $0 }) == 0 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(target.begun.withLockedValue { $0 }, 1, "the index found the message and its attempt began")

        // While it is being attempted: a commit notice, an operator's change, a rescan.
        await manager.enqueued(id)
        await manager.reschedule([id])
        await manager.rescan()
        let scheduled = await manager.isScheduled(id)
        XCTAssertFalse(scheduled, "not on the schedule while its attempt runs")
        let inFlight = await manager.inFlight
        XCTAssertEqual(inFlight, 1)

        target.open()
        while FileManager.default.fileExists(atPath: store.messagePath(for: id)) && Date() < deadline {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.messagePath(for: id)), "delivered")
        // The re-read after the attempt finds nothing left: the manager goes idle with nothing scheduled.
        while await manager.inFlight > 0 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        let depth = await manager.depth
        XCTAssertEqual(depth, 0)
        XCTAssertEqual(target.begun.withLockedValue { $0 }, 1, "delivered once")
        await manager.stop()
        await running.value
        try await io.shutdownGracefully()
    }
}
