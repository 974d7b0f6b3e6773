// The contract of RateLimitCounting, written against the protocol: counts per
// key over a sliding window (two fixed windows blended), all-or-nothing over
// the requests of one admit, keys apart. Times are given, not waited for.

import Foundation
import SluicePolicy
import XCTest

public struct RateLimitCountingContract {
    let make: () throws -> any RateLimitCounting

    public init(make: @escaping () throws -> any RateLimitCounting) { self.make = make }

    public func run() async throws {
        try await slidingWindow()
        try await allOrNothing()
    }

    func slidingWindow() async throws {
        let counters = try make()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let three = RateLimitRequest(key: "messages|60|ip 192.0.2.1", window: 60, limit: 3)
        for i in 0..<3 {
            let refused = await counters.admit([three], at: t0.addingTimeInterval(Double(i)))
            XCTAssertNil(refused, "message \(i + 1) of 3")
        }
        let fourth = await counters.admit([three], at: t0.addingTimeInterval(3))
        XCTAssertEqual(fourth, three)
        let otherKey = await counters.admit([RateLimitRequest(key: "messages|60|ip 192.0.2.2", window: 60, limit: 3)], at: t0)
        XCTAssertNil(otherKey, "another key counts apart")
        // A window and a half on, half of the old count still weighs: 3 * 0.5 = 1.5, so one more fits, not two.
        let oneMore = await counters.admit([three], at: t0.addingTimeInterval(90))
        XCTAssertNil(oneMore)
        let twoMore = await counters.admit([three], at: t0.addingTimeInterval(90))
        XCTAssertEqual(twoMore, three)
        // Two windows of quiet: all forgotten.
        let later = await counters.admit([three], at: t0.addingTimeInterval(211))
        XCTAssertNil(later)
    }

    func allOrNothing() async throws {
        let counters = try make()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let user = RateLimitRequest(key: "recipients|60|user app", window: 60, limit: 2)
        let domain = RateLimitRequest(key: "recipients|60|domain example.test", window: 60, limit: 1)
        let first = await counters.admit([user, domain], at: t0)
        XCTAssertNil(first)
        let second = await counters.admit([user, domain], at: t0)
        XCTAssertEqual(second, domain, "the domain's limit is reached")
        // The refused admit counted nothing: the user still has one left.
        let userAlone = await counters.admit([user], at: t0)
        XCTAssertNil(userAlone)
        let userOver = await counters.admit([user], at: t0)
        XCTAssertEqual(userOver, user)
    }
}
