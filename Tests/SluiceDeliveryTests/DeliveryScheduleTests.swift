// The per-destination schedule, as pure logic with dates given: order across
// destinations (earliest due, then longest waiting), the limit of attempts at
// once per destination, and work per dispatch that does not grow with the
// number of messages queued (counted in comparisons, not seconds).

import Foundation
import SluiceCore
import XCTest

@testable import SluiceDelivery

final class DeliveryScheduleTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_000_000)
    /// Ids in queue order (time-ordered, as generated).
    func ids(_ n: Int) -> [QueueID] { (0..<n).map { _ in QueueID.generate() }.sorted() }

    func testEarliestDueThenLongestWaitingAcrossDestinations() {
        var s = DeliverySchedule(destinationLimit: 10)
        let m = ids(4)
        // A retry due at t0 of an old message, new arrivals at t0+1, one retry not yet due.
        s.set(m[3], at: t0.addingTimeInterval(1), destination: "relay:a")
        s.set(m[1], at: t0.addingTimeInterval(1), destination: "send:b.test")
        s.set(m[2], at: t0, destination: "relay:a")
        s.set(m[0], at: t0.addingTimeInterval(60), destination: "send:b.test")
        XCTAssertEqual(s.next(), t0)
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(1), limit: 10), [m[2], m[1], m[3]])
        XCTAssertEqual(s.next(), t0.addingTimeInterval(60))
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s.runningCount, 3)
    }

    func testADestinationAtItsLimitWaitsAndTheOthersGoOn() {
        var s = DeliverySchedule(destinationLimit: 2)
        let m = ids(6)
        for id in m[0..<5] { s.set(id, at: t0, destination: "relay:slow") }
        s.set(m[5], at: t0.addingTimeInterval(5), destination: "relay:fast")
        // The slow destination takes two attempts; the fast one's later message is next, not the slow ones' older.
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(10), limit: 10), [m[0], m[1], m[5]])
        XCTAssertEqual(s.running(to: "relay:slow"), 2)
        XCTAssertNil(s.next(), "nothing to take until a slow attempt ends")
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(10), limit: 10), [])
        s.finished(m[0])
        XCTAssertEqual(s.next(), t0)
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(10), limit: 10), [m[2]])
        // The overall limit holds too.
        s.finished(m[1])
        s.finished(m[2])
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(10), limit: 1), [m[3]])
    }

    func testAMessageWaitsOrRunsNeverBoth() {
        var s = DeliverySchedule(destinationLimit: 5)
        let m = ids(1)[0]
        s.set(m, at: t0, destination: "store")
        XCTAssertEqual(s.takeDue(now: t0, limit: 5), [m])
        s.set(m, at: t0, destination: "store")
        XCTAssertFalse(s.contains(m), "not scheduled while it runs")
        XCTAssertEqual(s.takeDue(now: t0, limit: 5), [])
        s.finished(m)
        s.set(m, at: t0.addingTimeInterval(30), destination: "relay:x")
        XCTAssertEqual(s.destination(of: m), "relay:x")
        XCTAssertEqual(s.dueTime(of: m), t0.addingTimeInterval(30))
        // A new destination replaces the old; removal forgets an idle destination.
        s.set(m, at: t0, destination: "relay:y")
        XCTAssertEqual(s.destinations, 1)
        s.remove(m)
        XCTAssertEqual(s.destinations, 0)
        XCTAssertNil(s.next())
    }

    /// Queues `n` messages over 20 destinations (due at spread times), then counts the comparisons of one dispatch
    /// of 32 due messages and of their return to the schedule.
    func dispatchWork(queued n: Int) -> Int {
        var s = DeliverySchedule(destinationLimit: 20)
        for (i, id) in ids(n).enumerated() { s.set(id, at: t0.addingTimeInterval(Double(i % 1000)), destination: "d\(i % 20)") }
        let before = s.comparisons
        let taken = s.takeDue(now: t0.addingTimeInterval(2000), limit: 32)
        XCTAssertEqual(taken.count, 32)
        for id in taken {
            s.finished(id)
            s.set(id, at: t0.addingTimeInterval(5000), destination: "d0")
        }
        return s.comparisons - before
    }

    func testTheWorkOfADispatchDoesNotGrowWithTheBacklog() {
        let small = dispatchWork(queued: 1_000)
        let large = dispatchWork(queued: 100_000)
        // O(log n) per message: 100 times the messages, well under twice the comparisons (a scan would be 100x).
        XCTAssertLessThan(Double(large), Double(small) * 2, "\(small) → \(large) comparisons")
    }

    /// A backlog's schedule gives its memory back once drained (Swift collections keep their capacity otherwise).
    func testADrainedScheduleGivesItsMemoryBack() {
        var s = DeliverySchedule(destinationLimit: 1000)
        let all = ids(100_000)
        for id in all { s.set(id, at: t0, destination: "relay:up") }
        let full = s.capacity
        XCTAssertGreaterThan(full, 200_000)
        while true {
            let taken = s.takeDue(now: t0, limit: 500)
            if taken.isEmpty { break }
            for id in taken { s.finished(id) }
        }
        XCTAssertEqual(s.count, 0)
        XCTAssertLessThan(s.capacity, full / 20, "capacity \(s.capacity) of \(full) kept after the drain")
    }
}
