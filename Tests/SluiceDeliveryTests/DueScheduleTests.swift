// The queue manager's schedule: earliest due first and, among equals, the
// longest waiting (queue ids are time-ordered), so neither retries nor new
// arrivals starve; a changed time replaces the old one; and the work of a
// dispatch, counted in comparisons, grows with the logarithm of the backlog,
// not with the backlog (the old dispatch sorted every queued message).

import Foundation
import SluiceCore
import XCTest

@testable import SluiceDelivery

final class DueScheduleTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Ids in arrival order (queue ids sort as they arrived; these are digits, zero-padded).
    func id(_ i: Int) -> QueueID { QueueID(String(format: "%016d", i))! }

    func testEarliestDueFirstThenLongestWaiting() {
        var s = DueSchedule()
        let (old, middle, new) = (id(1), id(2), id(3))
        s.set(new, at: t0)  // a new arrival, due now
        s.set(old, at: t0)  // a retry that came due at the same time: it waited longest
        s.set(middle, at: t0.addingTimeInterval(-5))  // due earlier
        XCTAssertEqual(s.takeDue(now: t0, limit: 10), [middle, old, new])
        XCTAssertEqual(s.count, 0)
        XCTAssertNil(s.next())
    }

    func testOnlyWhatIsDueWithinTheLimitAndChangedTimesReplaceOldOnes() {
        var s = DueSchedule()
        for i in 0..<5 { s.set(id(i), at: t0.addingTimeInterval(Double(i))) }
        s.set(id(0), at: t0.addingTimeInterval(100))  // retried later: its old time no longer counts
        s.remove(id(1))  // held by an operator
        XCTAssertEqual(s.next(), t0.addingTimeInterval(2))
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(3), limit: 1), [id(2)])
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(3), limit: 5), [id(3)])
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(3), limit: 5), [])
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(1000), limit: 5), [id(4), id(0)])
    }

    /// Comparisons to schedule 10 arrivals, find the next due time and take them, with `backlog` messages waiting.
    func dispatchWork(backlog: Int) -> Int {
        var s = DueSchedule()
        for i in 0..<backlog { s.set(id(i), at: t0.addingTimeInterval(3600 + Double(i % 600))) }
        let before = s.comparisons
        for i in 0..<10 { s.set(id(backlog + i), at: t0) }
        XCTAssertEqual(s.next(), t0)
        XCTAssertEqual(s.takeDue(now: t0, limit: 32).count, 10)
        return s.comparisons - before
    }

    func testTheWorkOfADispatchDoesNotGrowWithTheBacklog() {
        let small = dispatchWork(backlog: 1_000)
        let large = dispatchWork(backlog: 100_000)
        // A hundred times the backlog: log2 grows from 10 to 17; a scan or sort would be a hundred times the work.
        XCTAssertLessThan(Double(large), Double(small) * 2.5, "\(small) comparisons at 1,000 queued, \(large) at 100,000")
        XCTAssertLessThan(large, 10 * 2 * 2 * 17 + 100, "about 2 log2(n) per push and pop")
    }

    func testRescheduledMessagesCostAFewComparisonsEachOverall() {
        var s = DueSchedule()
        for round in 0..<50 {
            for i in 0..<1000 { s.set(id(i), at: t0.addingTimeInterval(Double(round * 1000 + i))) }
        }
        XCTAssertEqual(s.count, 1000)
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(49_000), limit: 5), [id(0)])
        XCTAssertEqual(s.takeDue(now: t0.addingTimeInterval(60_000), limit: 2000).count, 999)
        // 50,000 changes of time: old entries are swept or popped once each, so the total stays about log2(n) per change.
        XCTAssertLessThan(s.comparisons / 50_000, 40, "\(s.comparisons) comparisons")
    }
}
