// Rate limits per client IP, user and sender domain, with a clock the test moves.

import Foundation
import SluiceConfig
import SluiceCore
import XCTest

@testable import SluicePolicy

final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t = Date(timeIntervalSince1970: 1_800_000_000)
    var now: Date { lock.lock(); defer { lock.unlock() }; return t }
    func advance(_ s: Double) { lock.lock(); t = t.addingTimeInterval(s); lock.unlock() }
}

final class RateLimiterTests: XCTestCase {
    func client(_ ip: String, user: String? = nil) -> ClientInfo {
        var c = ClientInfo(address: IPAddress(ip), listener: "t")
        c.authenticatedUser = user
        return c
    }

    let sender = MailAddress(localPart: "a", domain: "Example.test")

    func testMessagesPerClientIPWithSlidingWindow() {
        let clock = TestClock()
        let limiter = RateLimiter(limits: [RateLimit(key: .clientIP, messages: 3, recipients: nil, window: 60)], now: { clock.now })
        for _ in 0..<3 { XCTAssertNil(limiter.admitMessage(client: client("192.0.2.1"), sender: sender)) }
        let refused = limiter.admitMessage(client: client("192.0.2.1"), sender: sender)
        XCTAssertEqual(refused?.reply.code, 451)
        XCTAssertEqual(refused?.reply.status, EnhancedStatus(4, 7, 1))
        XCTAssertNil(limiter.admitMessage(client: client("192.0.2.2"), sender: sender))
        // Half a window later, half of the old count still weighs: 3 * 0.5 = 1.5, so one more fits.
        clock.advance(90)
        XCTAssertNil(limiter.admitMessage(client: client("192.0.2.1"), sender: sender))
        XCTAssertNotNil(limiter.admitMessage(client: client("192.0.2.1"), sender: sender))
        clock.advance(121)
        XCTAssertNil(limiter.admitMessage(client: client("192.0.2.1"), sender: sender))
    }

    func testRecipientsPerUserAndSenderDomain() {
        let limiter = RateLimiter(limits: [
            RateLimit(key: .user, messages: nil, recipients: 2, window: 60),
            RateLimit(key: .senderDomain, messages: nil, recipients: 3, window: 60),
        ])
        XCTAssertNil(limiter.admitRecipient(client: client("192.0.2.1", user: "app"), sender: sender))
        XCTAssertNil(limiter.admitRecipient(client: client("192.0.2.1", user: "APP"), sender: sender))
        XCTAssertNotNil(limiter.admitRecipient(client: client("192.0.2.9", user: "app"), sender: sender))
        // Another user, same sender domain: the domain limit (3) is hit on the second.
        XCTAssertNil(limiter.admitRecipient(client: client("192.0.2.1", user: "other"), sender: MailAddress(localPart: "b", domain: "example.TEST")))
        XCTAssertNotNil(limiter.admitRecipient(client: client("192.0.2.1", user: "third"), sender: sender))
        // Unauthenticated with the null sender: no user, no domain key applies.
        XCTAssertNil(limiter.admitRecipient(client: client("192.0.2.1"), sender: nil))
    }
}
