// Credentials: the embedded SQLite store and the in-memory failure counts pass
// the storage contracts (Tests/SluiceStoreContracts); the SQLite file never
// holds a secret; sender allow lists; the failed-login throttle on a manual
// clock.

import Foundation
import SluiceCore
import SluiceStoreContracts
import SluiceTestSupport
import XCTest

@testable import SluiceCredentials

final class CredentialStoreTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = NSTemporaryDirectory() + "sluice-creds-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTheSQLiteStorePassesTheContract() async throws {
        var n = 0
        try await CredentialStoreContract { clock in
            n += 1
            return try SQLiteCredentialStore(path: self.dir + "/credentials-\(n).sqlite", now: { clock.now() })
        }.run()
    }

    func testTheMemoryFailureCountsPassTheContract() async throws {
        try await AuthFailureCountingContract { MemoryAuthFailures() }.run()
    }

    func testTheDatabaseHoldsNoSecret() async throws {
        let store = try SQLiteCredentialStore(path: dir + "/credentials.sqlite")
        let secret = try await store.add(user: "app", name: "web1", allowFrom: ["example.test"], expiresIn: 365 * 86400)
        _ = try await store.authenticate(user: "app", secret: secret)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            XCTAssertNil(data.range(of: Data(secret.utf8)), name)
            XCTAssertNil(data.range(of: Data(secret.dropFirst(4).utf8)), name)
        }
    }

    func testSenderAllowLists() async throws {
        let list = SenderAllowList(["example.test", ".sub.example.test", "billing@other.test"])
        XCTAssertTrue(list.allows(localPart: "x", domain: "EXAMPLE.test."))
        XCTAssertTrue(list.allows(localPart: "x", domain: "a.sub.example.test"))
        XCTAssertFalse(list.allows(localPart: "x", domain: "evil-example.test"))
        XCTAssertTrue(list.allows(localPart: "Billing", domain: "other.test"))
        XCTAssertFalse(list.allows(localPart: "ceo", domain: "other.test"))
        let parsed = SenderAllowList.headerAddresses("\"Doe, John\" <john@a.test>, (comment) jane@b.test, Team: x@c.test;")
        XCTAssertEqual(parsed.map { "\($0.0)@\($0.1)" }, ["john@a.test", "jane@b.test", "x@c.test"])
        let store = try SQLiteCredentialStore(path: dir + "/c.sqlite")
        _ = try await store.add(user: "app", name: "n", allowFrom: ["a.example"], expiresIn: nil)
        let allowed = try await store.allowedSenders(user: "app")
        XCTAssertEqual(allowed, SenderAllowList(["a.example"]))
    }

    func testThrottleGrowsDelayThenBlocksPerIPAndUser() async {
        let clock = ManualClock()
        let t = AuthThrottle(policy: AuthThrottlePolicy(maxFailures: 10, window: 60, baseDelay: 1), failures: MemoryAuthFailures(), clock: clock)
        var delays: [Double] = []
        for _ in 0..<10 {
            let blocked = await t.isBlocked(ip: "192.0.2.1", user: "u\(delays.count)")
            XCTAssertFalse(blocked)
            delays.append(await t.recordFailure(ip: "192.0.2.1", user: "u\(delays.count)"))
        }
        XCTAssertEqual(Array(delays.prefix(5)), [1, 2, 4, 8, 8])
        let ipBlocked = await t.isBlocked(ip: "192.0.2.1", user: nil)
        XCTAssertTrue(ipBlocked)
        let otherIP = await t.isBlocked(ip: "192.0.2.2", user: "someone")
        XCTAssertFalse(otherIP)
        clock.advance(by: 61)
        let afterWindow = await t.isBlocked(ip: "192.0.2.1", user: nil)
        XCTAssertFalse(afterWindow)
        for _ in 0..<10 { _ = await t.recordFailure(ip: "198.51.100.\(Int.random(in: 1...250))", user: "victim") }
        let userBlocked = await t.isBlocked(ip: "203.0.113.9", user: "victim")
        XCTAssertTrue(userBlocked)
        let caseInsensitive = await t.isBlocked(ip: "203.0.113.9", user: "VICTIM")
        XCTAssertTrue(caseInsensitive)
    }
}
