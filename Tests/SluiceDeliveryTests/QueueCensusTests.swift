// The queue manager's census: what `sluice status` and /metrics show, kept in
// memory as the manager learns of each message (indexed, attempted, changed
// by an operator, removed), so a status reads no queue file.

import Foundation
import Logging
import NIOPosix
import SluiceCore
import SluiceQueue
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

final class QueueCensusTests: XCTestCase {
    func testTheCensusFollowsEachMessage() async throws {
        let dir = NSTemporaryDirectory() + "sluice-census-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        let clock = ManualClock()
        let store = try QueueStore(directory: dir)
        func queue(_ kind: String, held: Bool = false) throws -> QueueID {
            let id = QueueID.generate()
            let rcpt = MailAddress(localPart: "b", domain: "r.test")
            let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
            var entry = QueueEntry(
                envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
                plan: DeliveryPlan(routes: [Route(target: RouteTarget(kind: kind), recipients: [rcpt])]), size: body.count, queuedAt: clock.now())
            entry.held = held
            try store.submit(body, entry)
            return id
        }
        let held = try queue("later", held: true)
        let deferred = try queue("later")
        let delivered = try queue("quick")
        let manager = QueueManager(
            store: store, targets: ["later": DeferringTarget(deferrals: 10), "quick": QuickTarget()],
            schedule: RetrySchedule(intervals: [3600], maxDeliveryTime: 86_400), io: io, clock: clock,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { await manager.run() }
        let deadline = Date().addingTimeInterval(20)
        func census() async -> QueueCensus { await manager.census() }
        while Date() < deadline {
            let c = await census()
            if c.complete && c.byState[.deferred] == 1 && c.depth == 2 { break }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        var now = await census()
        XCTAssertTrue(now.complete)
        XCTAssertEqual(now.depth, 2, "\(now)")
        XCTAssertEqual(now.byState, [.held: 1, .deferred: 1])
        XCTAssertEqual(now.oldest, held)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.messagePath(for: delivered)))
        // An operator deletes the deferred one and releases the held one (told as the daemon would be).
        try store.remove(deferred)
        try store.modify(held) { e in
            var e = e
            e.held = false
            return .update(e)
        }
        await manager.reschedule([deferred, held])
        now = await census()
        XCTAssertEqual(now.depth, 1)
        XCTAssertEqual(now.oldest, held)
        XCTAssertNotEqual(now.byState[.held], 1)
        // A commit notice arriving after the start's index found and delivered that message (the intake tells the
        // manager after its commit; the index may be quicker): not a new message, no ghost in the census.
        let quick = try queue("quick")
        let quickEntry = try XCTUnwrap(try store.load(quick))
        await manager.reschedule([quick])
        while FileManager.default.fileExists(atPath: store.messagePath(for: quick)) && Date() < deadline {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        while await manager.inFlight > 0 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        await manager.enqueued(quickEntry)
        now = await census()
        XCTAssertEqual(now.depth, 1, "\(now)")
        let scheduled = await manager.isScheduled(quick)
        XCTAssertFalse(scheduled)
        await manager.stop()
        await running.value
        try await io.shutdownGracefully()
    }
}
