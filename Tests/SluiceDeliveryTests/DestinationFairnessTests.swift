// The queue manager with real files and a manual clock: a destination whose
// deliveries hang takes at most `destinationConcurrency` attempts, and mail
// for another destination is delivered meanwhile; the manager never holds
// more than `maxConcurrent` messages in attempts at once (the rest wait on
// disk, as ids and due times only).

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

/// Counts deliveries at once and the most seen.
final class ConcurrencyCounter: @unchecked Sendable {
    private let state = NIOLockedValueBox((now: 0, most: 0, done: 0))
    func begin() { state.withLockedValue { $0.now += 1; $0.most = max($0.most, $0.now) } }
    func end() { state.withLockedValue { $0.now -= 1; $0.done += 1 } }
    var most: Int { state.withLockedValue { $0.most } }
    var done: Int { state.withLockedValue { $0.done } }
}

/// Delivers at once, counting.
final class QuickTarget: DeliveryTarget, @unchecked Sendable {
    let counter = ConcurrencyCounter()
    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        counter.begin()
        counter.end()
        return DeliveryReport(detail: "ok")
    }
}

/// Hangs until `open()`, counting.
final class HangingTarget: DeliveryTarget, @unchecked Sendable {
    let counter = ConcurrencyCounter()
    private let gate = AsyncStream<Void>.makeStream()
    func open() { gate.continuation.finish() }
    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        counter.begin()
        for await _ in gate.stream {}
        counter.end()
        return DeliveryReport(detail: "ok")
    }
}

final class DestinationFairnessTests: XCTestCase {
    var dir: String!
    var io: NIOThreadPool!

    override func setUp() {
        dir = NSTemporaryDirectory() + "sluice-fair-\(UUID().uuidString)"
        io = NIOThreadPool(numberOfThreads: 2)
        io.start()
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(atPath: dir)
        try await io.shutdownGracefully()
    }

    func submit(_ n: Int, to target: RouteTarget, _ store: QueueStore, clock: ManualClock) throws -> [QueueEntry] {
        try (0..<n).map { _ in
            let id = QueueID.generate()
            let rcpt = MailAddress(localPart: "b", domain: "r.test")
            let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
            let entry = QueueEntry(
                envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
                plan: DeliveryPlan(routes: [Route(target: target, recipients: [rcpt])]), size: body.count, queuedAt: clock.now())
            try store.submit(body, entry)
            return entry
        }
    }

    func waitFor(_ what: String, _ condition: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(20)
        while !(await condition()) {
            guard Date() < deadline else { return XCTFail("timed out waiting for \(what)") }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    func testASlowDestinationDoesNotDelayAnother() async throws {
        let clock = ManualClock()
        let store = try QueueStore(directory: dir)
        let (slow, quick) = (HangingTarget(), QuickTarget())
        let manager = QueueManager(
            store: store, targets: ["slow": slow, "quick": quick], schedule: RetrySchedule(intervals: [60], maxDeliveryTime: 86_400),
            maxConcurrent: 8, destinationConcurrency: 3, io: io, clock: clock, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { await manager.run() }
        // The slow destination's backlog arrives first, and is older: longest waiting first would give it every slot.
        for e in try submit(20, to: RouteTarget(kind: "slow", instance: "a"), store, clock: clock) { await manager.enqueued(e) }
        try await waitFor("three slow attempts") { slow.counter.most == 3 }
        for e in try submit(10, to: RouteTarget(kind: "quick", instance: "b"), store, clock: clock) { await manager.enqueued(e) }
        try await waitFor("the quick destination's mail, delivered while the slow one hangs") { quick.counter.done == 10 }
        let toSlow = await manager.inFlight(to: "slow:a")
        XCTAssertEqual(toSlow, 3)
        XCTAssertEqual(slow.counter.most, 3, "never more than destination_concurrency at once")
        slow.open()
        try await waitFor("the slow backlog") { slow.counter.done == 20 }
        XCTAssertEqual(slow.counter.most, 3)
        await manager.stop()
        await running.value
    }

    func testTheManagerHoldsAtMostItsActiveLimitInAttempts() async throws {
        let clock = ManualClock()
        let store = try QueueStore(directory: dir)
        let target = HangingTarget()
        // 40 messages queued before the start: the index finds them, the manager attempts 5 at a time.
        let entries = try submit(40, to: RouteTarget(kind: "slow", instance: "a"), store, clock: clock)
        let manager = QueueManager(
            store: store, targets: ["slow": target], schedule: RetrySchedule(intervals: [60], maxDeliveryTime: 86_400),
            maxConcurrent: 5, destinationConcurrency: 100, io: io, clock: clock, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { await manager.run() }
        try await waitFor("the index") { await manager.indexed }
        try await waitFor("five attempts") { target.counter.most == 5 }
        let inFlight = await manager.inFlight
        let depth = await manager.depth
        XCTAssertEqual(inFlight, 5)
        XCTAssertEqual(depth, 40, "the others wait on the schedule")
        target.open()
        // Delivered, then removed from the queue once each attempt's end is written.
        try await waitFor("every message delivered and removed") {
            target.counter.done == 40 && entries.allSatisfy { !FileManager.default.fileExists(atPath: store.messagePath(for: $0.id)) }
        }
        XCTAssertEqual(target.counter.most, 5)
        await manager.stop()
        await running.value
    }
}
