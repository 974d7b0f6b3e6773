// The contract of CredentialStoring, written against the protocol: a backend
// passes it by running `CredentialStoreContract(make:).run()` with its own
// store (the embedded SQLite store's test does; a PostgreSQL store's would,
// unchanged). Time moves on a manual clock: expiry and the rotation overlap
// are tested without waiting.

import Foundation
import SluiceCredentials
import SluiceTestSupport
import XCTest

public struct CredentialStoreContract {
    /// A new, empty store whose time is the clock's.
    let make: (ManualClock) throws -> any CredentialStoring

    public init(make: @escaping (ManualClock) throws -> any CredentialStoring) { self.make = make }

    public func run() async throws {
        try await secretsAuthenticateAndRecordUse()
        try await expiryRevocationAndRotationOverlap()
        try await revokeOneSecretByIdOrADeviceByName()
        try await allowedSendersChangeOnlyExplicitly()
    }

    func secretsAuthenticateAndRecordUse() async throws {
        let clock = ManualClock()
        let store = try make(clock)
        let secret = try await store.add(user: "app", name: "web1", allowFrom: ["example.test"], expiresIn: 365 * 86400)
        XCTAssertTrue(secret.hasPrefix("slk_"))
        XCTAssertEqual(secret.count, 43, "192 bits in base32")
        let second = try await store.add(user: "app", name: "web2", allowFrom: nil, expiresIn: nil)
        XCTAssertNotEqual(secret, second)
        let right = try await store.authenticate(user: "app", secret: secret)
        XCTAssertEqual(right, "web1")
        let wrong = try await store.authenticate(user: "app", secret: secret + "x")
        XCTAssertNil(wrong)
        let otherUser = try await store.authenticate(user: "other", secret: secret)
        XCTAssertNil(otherUser)
        let listed = try await store.list()
        XCTAssertEqual(listed.first { $0.name == "web1" }?.lastUsedAt, clock.now())
        XCTAssertEqual(Set(listed.map(\.name)), ["web1", "web2"])
    }

    func expiryRevocationAndRotationOverlap() async throws {
        let clock = ManualClock()
        let store = try make(clock)
        let short = try await store.add(user: "app", name: "short", allowFrom: nil, expiresIn: 3600)
        clock.advance(by: 3601)
        let expired = try await store.authenticate(user: "app", secret: short)
        XCTAssertNil(expired)
        let v1 = try await store.list().first?.state(at: clock.now())
        XCTAssertEqual(v1, .expired)

        let old = try await store.add(user: "app", name: "srv", allowFrom: nil, expiresIn: nil)
        await XCTAssertThrowsAsync(try await store.add(user: "app", name: "srv", allowFrom: nil, expiresIn: nil), "a second live secret of a name")
        let new = try await store.rotate(user: "app", name: "srv", overlap: 7 * 86400)
        let oldDuringOverlap = try await store.authenticate(user: "app", secret: old)
        XCTAssertEqual(oldDuringOverlap, "srv")
        let newDuringOverlap = try await store.authenticate(user: "app", secret: new)
        XCTAssertEqual(newDuringOverlap, "srv")
        clock.advance(by: 7 * 86400 + 1)
        let oldAfter = try await store.authenticate(user: "app", secret: old)
        XCTAssertNil(oldAfter)
        let newAfter = try await store.authenticate(user: "app", secret: new)
        XCTAssertEqual(newAfter, "srv")
        try await store.revoke(user: "app", name: "srv")
        let revoked = try await store.authenticate(user: "app", secret: new)
        XCTAssertNil(revoked)
        await XCTAssertThrowsAsync(try await store.revoke(user: "app", name: "nope"), "nothing to revoke")
        await XCTAssertThrowsAsync(try await store.add(user: "bad user", name: "x", allowFrom: nil, expiresIn: nil), "a bad name")
    }

    func revokeOneSecretByIdOrADeviceByName() async throws {
        let store = try make(ManualClock())
        let old = try await store.add(user: "alice", name: "laptop", allowFrom: ["example.test"], expiresIn: nil)
        let new = try await store.rotate(user: "alice", name: "laptop", overlap: 86400)
        let ids = try await store.list().filter { $0.name == "laptop" }.map(\.id)
        XCTAssertEqual(Set(ids).count, 2, "one id per secret")
        let revoked = try await store.revoke(user: "alice", id: ids[0])
        XCTAssertEqual(revoked.map(\.id), [ids[0]])
        let a = try await store.authenticate(user: "alice", secret: old)
        XCTAssertNil(a, "the old secret is revoked")
        let b = try await store.authenticate(user: "alice", secret: new)
        XCTAssertEqual(b, "laptop", "the new one still works")
        await XCTAssertThrowsAsync(try await store.revoke(user: "alice", id: ids[0]), "already revoked")
        await XCTAssertThrowsAsync(try await store.revoke(user: "bob", id: ids[1]), "another user's id")
        _ = try await store.rotate(user: "alice", name: "laptop", overlap: 86400)
        let v2 = try await store.revoke(user: "alice", name: "laptop").count
        XCTAssertEqual(v2, 2, "the device: current and retiring")
    }

    func allowedSendersChangeOnlyExplicitly() async throws {
        let store = try make(ManualClock())
        _ = try await store.add(user: "alice", name: "laptop", allowFrom: ["example.test"], expiresIn: nil)
        await XCTAssertThrowsAsync(try await store.add(user: "alice", name: "phone", allowFrom: ["other.test"], expiresIn: nil), "a silent change")
        _ = try await store.add(user: "alice", name: "phone", allowFrom: ["example.test"], expiresIn: nil)  // the same list is fine
        _ = try await store.add(user: "alice", name: "tablet", allowFrom: nil, expiresIn: nil)
        let v3 = try await store.allow(user: "alice", add: ["other.test"], remove: [])
        XCTAssertEqual(v3, ["example.test", "other.test"])
        let v4 = try await store.allow(user: "alice", add: [], remove: ["EXAMPLE.test"])
        XCTAssertEqual(v4, ["other.test"])
        await XCTAssertThrowsAsync(try await store.allow(user: "alice", add: [], remove: ["example.test"]), "not in the list")
        await XCTAssertThrowsAsync(try await store.allow(user: "nobody", add: ["x.test"], remove: []), "no such user")
        let allowed = try await store.allowedSenders(user: "alice")
        XCTAssertTrue(allowed.allows(localPart: "a", domain: "other.test"))
        XCTAssertFalse(allowed.allows(localPart: "a", domain: "example.test"))
        let nobody = try await store.allowedSenders(user: "nobody")
        XCTAssertTrue(nobody.isEmpty)
    }
}

/// The contract of AuthFailureCounting: failures count within their window and leave it, per key; a clear forgets a key.
public struct AuthFailureCountingContract {
    let make: () throws -> any AuthFailureCounting

    public init(make: @escaping () throws -> any AuthFailureCounting) { self.make = make }

    public func run() async throws {
        let failures = try make()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let v5 = await failures.recordFailure(keys: ["ip:a", "user:u"], at: t0, window: 60)
        XCTAssertEqual(v5, [1, 1])
        let v6 = await failures.recordFailure(keys: ["ip:a"], at: t0.addingTimeInterval(30), window: 60)
        XCTAssertEqual(v6, [2])
        let v7 = await failures.failures(key: "ip:a", at: t0.addingTimeInterval(59), window: 60)
        XCTAssertEqual(v7, 2)
        let v8 = await failures.failures(key: "ip:a", at: t0.addingTimeInterval(61), window: 60)
        XCTAssertEqual(v8, 1, "the first left the window")
        let v9 = await failures.failures(key: "ip:other", at: t0, window: 60)
        XCTAssertEqual(v9, 0)
        await failures.clear(key: "user:u")
        let v10 = await failures.failures(key: "user:u", at: t0, window: 60)
        XCTAssertEqual(v10, 0)
        let v11 = await failures.failures(key: "ip:a", at: t0.addingTimeInterval(30), window: 60)
        XCTAssertEqual(v11, 2, "other keys stay")
    }
}

/// XCTAssertThrowsError for an async expression.
public func XCTAssertThrowsAsync<T>(
    _ expression: @autoclosure () async throws -> T, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) async {
    do {
        _ = try await expression()
        XCTFail("did not throw: \(message)", file: file, line: line)
    } catch {}
}
