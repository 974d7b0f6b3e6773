// Rate limits per client IP, user and sender domain, with a clock the test moves.

import Foundation
import SluiceConfig
import SluiceCore
import SluiceStoreContracts
import SluiceTestSupport
import XCTest

@testable import SluicePolicy

final class RateLimiterTests: XCTestCase {
    func testTheMemoryCountersPassTheContract() async throws {
        try await RateLimitCountingContract { MemoryRateLimitCounters() }.run()
    }

    func client(_ ip: String, user: String? = nil) -> ClientInfo {
        var c = ClientInfo(address: IPAddress(ip), listener: "t")
        c.authenticatedUser = user
        return c
    }

    let sender = MailAddress(localPart: "a", domain: "Example.test")

    /// A rate-limit window on the manual clock: nothing here waits.
    func testMessagesPerClientIPWithSlidingWindow() async {
        let clock = ManualClock()
        let limiter = RateLimiter(limits: [RateLimit(key: .clientIP, messages: 3, recipients: nil, window: 60)], clock: clock)
        for _ in 0..<3 {
            let ok = await limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
            XCTAssertNil(ok)
        }
        let refused = await limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
        XCTAssertEqual(refused?.reply.code, 451)
        XCTAssertEqual(refused?.reply.status, EnhancedStatus(4, 7, 1))
        let other = await limiter.admitMessage(client: client("192.0.2.2"), sender: sender)
        XCTAssertNil(other)
        // Half a window later, half of the old count still weighs: 3 * 0.5 = 1.5, so one more fits.
        clock.advance(by: 90)
        let oneMore = await limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
        XCTAssertNil(oneMore)
        let twoMore = await limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
        XCTAssertNotNil(twoMore)
        clock.advance(by: 121)
        let later = await limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
        XCTAssertNil(later)
    }

    func testRecipientsPerUserAndSenderDomain() async {
        let limiter = RateLimiter(limits: [
            RateLimit(key: .user, messages: nil, recipients: 2, window: 60),
            RateLimit(key: .senderDomain, messages: nil, recipients: 3, window: 60),
        ])
        let results = [
            await limiter.admitRecipient(client: client("192.0.2.1", user: "app"), sender: sender),
            await limiter.admitRecipient(client: client("192.0.2.1", user: "APP"), sender: sender),
            await limiter.admitRecipient(client: client("192.0.2.9", user: "app"), sender: sender),
            // Another user, same sender domain: the domain limit (3) is hit on the second.
            await limiter.admitRecipient(client: client("192.0.2.1", user: "other"), sender: MailAddress(localPart: "b", domain: "example.TEST")),
            await limiter.admitRecipient(client: client("192.0.2.1", user: "third"), sender: sender),
            // Unauthenticated with the null sender: no user, no domain key applies.
            await limiter.admitRecipient(client: client("192.0.2.1"), sender: nil),
        ]
        XCTAssertEqual(results.map { $0 != nil }, [false, false, true, false, true, false])
    }
}
