// The wall clock's sleep gives its timer back when the sleeping task is
// cancelled (a cancelled Task.sleep keeps its timer queued until the deadline:
// the queue manager, waiting twice per message for "an hour from now or an
// event", once held hundreds of MiB of them with a large backlog).

import Foundation
import SluiceCore
import XCTest

final class TimerSleepTests: XCTestCase {
    func testACancelledSleepEndsAtOnceAndFreesItsTimer() async throws {
        let clock = WallClock()
        let before = WallClock.pendingTimers
        let sleepers = (0..<500).map { _ in Task { await clock.sleep(for: 3600) } }
        let deadline = Date().addingTimeInterval(10)
        while WallClock.pendingTimers < before + 500 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertGreaterThanOrEqual(WallClock.pendingTimers, before + 500)
        for s in sleepers { s.cancel() }
        for s in sleepers { await s.value }
        while WallClock.pendingTimers > before && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertLessThanOrEqual(WallClock.pendingTimers, before, "timers of cancelled sleeps are still pending")
    }

    func testASleepEndsAtItsTime() async throws {
        let clock = WallClock()
        let start = Date()
        await clock.sleep(for: 0.05)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.045)
    }
}
