// The deadline answers the caller at its time even when the operation
// ignores cancellation (a query on a connection that never answers).

import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import SluicePostgres

final class DeadlineTests: XCTestCase {
    func testTheCallerIsAnsweredAtTheDeadlineWhileTheOperationStillRuns() async throws {
        let parked = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let finished = NIOLockedValueBox(false)
        do {
            _ = try await Deadline.run(seconds: 0.05) { () async -> Int in
                // Deaf to cancellation: returns only when the test lets it.
                await withCheckedContinuation { c in parked.withLockedValue { $0 = c } }
                finished.withLockedValue { $0 = true }
                return 1
            }
            XCTFail("answered with the operation's value")
        } catch is Deadline.Expired {}
        XCTAssertFalse(finished.withLockedValue { $0 }, "the caller did not wait for the operation")
        // Let it go (polled with a bound: the operation may not have parked yet on a slow machine).
        var released = false
        for _ in 0..<1000 where !released {
            if let c = parked.withLockedValue({ p -> CheckedContinuation<Void, Never>? in defer { p = nil }; return p }) {
                c.resume()
                released = true
            } else {
                await Task.yield()
            }
        }
        XCTAssertTrue(released)
    }

    func testAnOperationWithinItsTimeAnswersItsValueOrError() async throws {
        let value = try await Deadline.run(seconds: 5) { 42 }
        XCTAssertEqual(value, 42)
        struct Refused: Error {}
        do {
            _ = try await Deadline.run(seconds: 5) { () async throws -> Int in throw Refused() }
            XCTFail("no error")
        } catch is Refused {}
    }
}
