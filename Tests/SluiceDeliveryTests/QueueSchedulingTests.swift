// The queue manager's scheduling with an injected clock: a deferred message is
// tried again exactly when its retry time comes on the clock, not before; the
// manager then waits on the clock or an event (no polling); stop() returns once
// nothing is in flight. The clock moves by hand, so nothing here waits for time.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

/// Refuses with 451 the first `deferrals` attempts, then delivers; counts attempts.
final class DeferringTarget: DeliveryTarget, @unchecked Sendable {
    let deferrals: Int
    let attempts = NIOLockedValueBox(0)

    init(deferrals: Int) { self.deferrals = deferrals }

    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let n = attempts.withLockedValue { a -> Int in
            a += 1
            return a
        }
        if n <= deferrals { throw SMTPError(451, .init(4, 3, 0), "try later") }
        return DeliveryReport(detail: "ok")
    }
}

/// Answers "not before" `wait` seconds of the clock the first time, then delivers; counts attempts.
final class NotBeforeTarget: DeliveryTarget, @unchecked Sendable {
    let clock: ManualClock
    let wait: Double
    let attempts = NIOLockedValueBox(0)

    init(clock: ManualClock, wait: Double) {
        self.clock = clock
        self.wait = wait
    }

    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let n = attempts.withLockedValue { a -> Int in
            a += 1
            return a
        }
        guard n == 1 else { return DeliveryReport(detail: "ok") }
        let later = RecipientResult(status: .deferred(notBefore: clock.now().addingTimeInterval(wait)), reply: SMTPReply(421, .init(4, 7, 0), "not now"))
        return DeliveryReport(results: Dictionary(uniqueKeysWithValues: recipients.map { ($0, later) }))
    }
}

final class QueueSchedulingTests: XCTestCase {
    var dir: String!

    override func setUp() { dir = NSTemporaryDirectory() + "sluice-sched-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(20)
        while !(await condition()) {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)") }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    /// Queues one message for the target on a manager with the retry schedule [60, 300].
    func queued(_ target: any DeliveryTarget, clock: ManualClock, io: NIOThreadPool) throws -> (QueueManager, QueueStore, QueueID) {
        let store = try QueueStore(directory: dir)
        let manager = QueueManager(
            store: store, targets: ["store": target], schedule: RetrySchedule(intervals: [60, 300], maxDeliveryTime: 86_400), io: io,
            clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
        let id = QueueID.generate()
        let envelope = Envelope(
            queueID: id, sender: MailAddress(localPart: "a", domain: "s.test"),
            recipients: [Recipient(address: MailAddress(localPart: "b", domain: "r.test"))], client: ClientInfo(address: nil, listener: "t"))
        let entry = QueueEntry(
            envelope: envelope, plan: DeliveryPlan(routes: [Route(target: .store(directory: dir), recipients: [envelope.recipients[0].address])]),
            size: body.count, queuedAt: clock.now())
        try store.submit(body, entry)
        return (manager, store, id)
    }

    /// "Not before T": the next attempt comes at T (not on the retry schedule), and it counts no attempt.
    func testANotBeforeDeferralWaitsWithoutCountingAnAttempt() async throws {
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        let clock = ManualClock()
        let target = NotBeforeTarget(clock: clock, wait: 600)
        let (manager, store, id) = try queued(target, clock: clock, io: io)
        let running = Task { await manager.run() }
        await manager.enqueued(id)
        let start = clock.now()
        try await waitFor("a wait until +600s, not the schedule's +60s") { clock.deadlines == [start.addingTimeInterval(600)] }
        let waiting = try XCTUnwrap(try store.load(id))
        XCTAssertEqual(waiting.attempts, 0, "no attempt counted")
        XCTAssertEqual(waiting.routes[0].notBefore, start.addingTimeInterval(600))
        XCTAssertEqual(waiting.nextAttempt, start.addingTimeInterval(600))
        XCTAssertEqual(waiting.routes[0].lastErrorReply?.code, 421)
        clock.advance(by: 600)
        try await waitFor("delivery") { !FileManager.default.fileExists(atPath: store.messagePath(for: id)) }
        XCTAssertEqual(target.attempts.withLockedValue { $0 }, 2)
        await manager.stop()
        await running.value
        try await io.shutdownGracefully()
    }

    func testRetriesComeWhenTheClockSaysSo() async throws {
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        let store = try QueueStore(directory: dir)
        let clock = ManualClock()
        let target = DeferringTarget(deferrals: 2)
        let manager = QueueManager(
            store: store, targets: ["store": target], schedule: RetrySchedule(intervals: [60, 300], maxDeliveryTime: 86_400), io: io,
            clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
        let id = QueueID.generate()
        let envelope = Envelope(
            queueID: id, sender: MailAddress(localPart: "a", domain: "s.test"),
            recipients: [Recipient(address: MailAddress(localPart: "b", domain: "r.test"))], client: ClientInfo(address: nil, listener: "t"))
        let entry = QueueEntry(
            envelope: envelope, plan: DeliveryPlan(routes: [Route(target: .store(directory: dir), recipients: [envelope.recipients[0].address])]),
            size: body.count, queuedAt: clock.now())
        try store.submit(body, entry)

        let running = Task { await manager.run() }
        await manager.enqueued(id)
        let start = clock.now()
        try await waitFor("the first attempt") {
            let inFlight = await manager.inFlight
            return target.attempts.withLockedValue { $0 } == 1 && inFlight == 0
        }
        // Deferred: the manager sleeps until the retry time, 60 s on, and nothing else.
        try await waitFor("a wait until +60s") { clock.deadlines.contains(start.addingTimeInterval(60)) }
        clock.advance(by: 59)
        XCTAssertEqual(clock.deadlines, [start.addingTimeInterval(60)], "still waiting for the retry time")
        XCTAssertEqual(target.attempts.withLockedValue { $0 }, 1)
        clock.advance(by: 1)
        try await waitFor("the second attempt") {
            let inFlight = await manager.inFlight
            return target.attempts.withLockedValue { $0 } == 2 && inFlight == 0
        }
        try await waitFor("a wait until +360s") { clock.deadlines.contains(start.addingTimeInterval(60 + 300)) }
        clock.advance(by: 300)
        try await waitFor("delivery") { !FileManager.default.fileExists(atPath: store.messagePath(for: id)) }
        XCTAssertEqual(target.attempts.withLockedValue { $0 }, 3)
        // Nothing is due: no clock wait at all, only the event signal.
        try await waitFor("no clock wait") { clock.deadlines.isEmpty }

        await manager.stop()
        await running.value
        let left = await manager.inFlight
        XCTAssertEqual(left, 0)
        try await io.shutdownGracefully()
    }
}
