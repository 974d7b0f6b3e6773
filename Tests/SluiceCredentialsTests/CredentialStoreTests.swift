// Credentials: add, authenticate, expiry, revocation, rotation with overlap,
// hashes only on disk; sender allow lists; the failed-login throttle.

import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import SluiceCredentials

final class Clock: @unchecked Sendable {
    let box = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { box.withLockedValue { $0 } }
    func advance(_ s: Double) { box.withLockedValue { $0 = $0.addingTimeInterval(s) } }
}

final class CredentialStoreTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = NSTemporaryDirectory() + "sluice-creds-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testSecretsAreRandomLongAndNeverStored() async throws {
        let clock = Clock()
        let store = try CredentialStore(path: dir + "/credentials.sqlite", now: { clock.now })
        let secret = try store.add(user: "app", name: "web1", allowFrom: ["example.test"], expiresIn: 365 * 86400)
        XCTAssertTrue(secret.hasPrefix("slk_"))
        XCTAssertEqual(secret.count, 43)  // 192 bits in base32
        XCTAssertNotEqual(secret, try store.add(user: "app", name: "web2", allowFrom: nil, expiresIn: nil))
        let v1 = try await store.authenticate(user: "app", secret: secret)
        XCTAssertEqual(v1, "web1")
        let v2 = try await store.authenticate(user: "app", secret: secret + "x")
        XCTAssertNil(v2)
        let v3 = try await store.authenticate(user: "other", secret: secret)
        XCTAssertNil(v3)
        // The database files hold no secret.
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            XCTAssertNil(data.range(of: Data(secret.utf8)), name)
            XCTAssertNil(data.range(of: Data(secret.dropFirst(4).utf8)), name)
        }
        XCTAssertEqual(try store.list().first { $0.name == "web1" }?.lastUsedAt, clock.now)
    }

    func testExpiryRevocationAndRotationOverlap() async throws {
        let clock = Clock()
        let store = try CredentialStore(path: dir + "/c.sqlite", now: { clock.now })
        let short = try store.add(user: "app", name: "short", allowFrom: nil, expiresIn: 3600)
        clock.advance(3601)
        let v4 = try await store.authenticate(user: "app", secret: short)
        XCTAssertNil(v4)
        XCTAssertEqual(try store.list().first?.state(at: clock.now), .expired)

        let old = try store.add(user: "app", name: "srv", allowFrom: nil, expiresIn: nil)
        XCTAssertThrowsError(try store.add(user: "app", name: "srv", allowFrom: nil, expiresIn: nil))
        let new = try store.rotate(user: "app", name: "srv", overlap: 7 * 86400)
        let v5 = try await store.authenticate(user: "app", secret: old)
        XCTAssertEqual(v5, "srv")
        let v6 = try await store.authenticate(user: "app", secret: new)
        XCTAssertEqual(v6, "srv")
        clock.advance(7 * 86400 + 1)
        let v7 = try await store.authenticate(user: "app", secret: old)
        XCTAssertNil(v7)
        let v8 = try await store.authenticate(user: "app", secret: new)
        XCTAssertEqual(v8, "srv")
        try store.revoke(user: "app", name: "srv")
        let v9 = try await store.authenticate(user: "app", secret: new)
        XCTAssertNil(v9)
        XCTAssertThrowsError(try store.revoke(user: "app", name: "nope"))
        XCTAssertThrowsError(try store.add(user: "bad user", name: "x", allowFrom: nil, expiresIn: nil))
    }

    /// Issue 20: each secret has an id; --id revokes one, --name every secret of the device, and both say what.
    func testRevokeOneSecretByIdOrADeviceByName() async throws {
        let store = try CredentialStore(path: dir + "/ids.sqlite")
        let old = try store.add(user: "alice", name: "laptop", allowFrom: ["example.test"], expiresIn: nil)
        let new = try store.rotate(user: "alice", name: "laptop", overlap: 86400)
        let ids = try store.list().filter { $0.name == "laptop" }.map(\.id)
        XCTAssertEqual(Set(ids).count, 2, "one id per secret")
        let revoked = try store.revoke(user: "alice", id: ids[0])
        XCTAssertEqual(revoked.map(\.id), [ids[0]])
        let a = try await store.authenticate(user: "alice", secret: old)
        XCTAssertNil(a, "the old secret is revoked")
        let b = try await store.authenticate(user: "alice", secret: new)
        XCTAssertEqual(b, "laptop", "the new one still works")
        XCTAssertThrowsError(try store.revoke(user: "alice", id: ids[0]), "already revoked")
        XCTAssertThrowsError(try store.revoke(user: "bob", id: ids[1]), "another user's id")
        _ = try store.rotate(user: "alice", name: "laptop", overlap: 86400)
        XCTAssertEqual(try store.revoke(user: "alice", name: "laptop").count, 2, "the device: current and retiring")
    }

    /// Issue 20: a second `creds add` does not quietly replace what the user may send as.
    func testAllowedSendersChangeOnlyExplicitly() async throws {
        let store = try CredentialStore(path: dir + "/allow.sqlite")
        _ = try store.add(user: "alice", name: "laptop", allowFrom: ["example.test"], expiresIn: nil)
        XCTAssertThrowsError(try store.add(user: "alice", name: "phone", allowFrom: ["other.test"], expiresIn: nil)) {
            XCTAssertTrue("\($0)".contains("creds allow alice"), "\($0)")
        }
        _ = try store.add(user: "alice", name: "phone", allowFrom: ["example.test"], expiresIn: nil)  // the same list is fine
        _ = try store.add(user: "alice", name: "tablet", allowFrom: nil, expiresIn: nil)
        XCTAssertEqual(try store.allow(user: "alice", add: ["other.test"], remove: []), ["example.test", "other.test"])
        XCTAssertEqual(try store.allow(user: "alice", add: [], remove: ["EXAMPLE.test"]), ["other.test"])
        XCTAssertThrowsError(try store.allow(user: "alice", add: [], remove: ["example.test"]), "not in the list")
        XCTAssertThrowsError(try store.allow(user: "nobody", add: ["x.test"], remove: []))
        let allowed = try await store.allowedSenders(user: "alice")
        XCTAssertTrue(allowed.allows(localPart: "a", domain: "other.test"))
        XCTAssertFalse(allowed.allows(localPart: "a", domain: "example.test"))
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
        let store = try CredentialStore(path: dir + "/c.sqlite")
        _ = try store.add(user: "app", name: "n", allowFrom: ["a.example"], expiresIn: nil)
        let v10 = try await store.allowedSenders(user: "app")
        XCTAssertEqual(v10, SenderAllowList(["a.example"]))
    }

    func testThrottleGrowsDelayThenBlocksPerIPAndUser() {
        let clock = Clock()
        let t = AuthThrottle(policy: AuthThrottlePolicy(maxFailures: 10, window: 60, baseDelay: 1), now: { clock.now })
        var delays: [Double] = []
        for _ in 0..<10 {
            XCTAssertFalse(t.isBlocked(ip: "192.0.2.1", user: "u\(delays.count)"))
            delays.append(t.recordFailure(ip: "192.0.2.1", user: "u\(delays.count)"))
        }
        XCTAssertEqual(Array(delays.prefix(5)), [1, 2, 4, 8, 8])
        XCTAssertTrue(t.isBlocked(ip: "192.0.2.1", user: nil))
        XCTAssertFalse(t.isBlocked(ip: "192.0.2.2", user: "someone"))
        clock.advance(61)
        XCTAssertFalse(t.isBlocked(ip: "192.0.2.1", user: nil))
        for _ in 0..<10 { _ = t.recordFailure(ip: "198.51.100.\(Int.random(in: 1...250))", user: "victim") }
        XCTAssertTrue(t.isBlocked(ip: "203.0.113.9", user: "victim"))
        XCTAssertTrue(t.isBlocked(ip: "203.0.113.9", user: "VICTIM"))
    }
}
