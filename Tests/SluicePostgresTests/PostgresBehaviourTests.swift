// What the postgres backend does beyond the contracts: limits that hold
// across nodes exactly, the schema's versions (migrate, refuse older and
// newer), the database down (on_unavailable, deadlines, back when it is),
// and the storage.postgres section's errors at file:line:column.

import Foundation
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluicePipeline
import SluicePolicy
import SluicePostgres
import SluiceTestSupport
import XCTest

final class PostgresBehaviourTests: XCTestCase {
    override class func tearDown() { PostgresFixture.stop() }

    func testARateLimitHoldsExactlyAcrossTwoNodes() async throws {
        let config = try await PostgresFixture.migratedDatabase(try PostgresFixture.server())
        // Two nodes: two processes' stores, each its own pool, the same database.
        let a = try PostgresFixture.storage(config).store((any RateLimitCounting).self)
        let b = try PostgresFixture.storage(try PostgresFixture.config(try PostgresFixture.server(), database: config.section(PostgresSection.self)!.database))
            .store((any RateLimitCounting).self)
        let limit = RateLimitRequest(key: "messages|60|user app", window: 60, limit: 10)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                let node = i % 2 == 0 ? a : b
                group.addTask { await node.admit([limit], at: t) == nil }
            }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        XCTAssertEqual(admitted, 10, "40 concurrent attempts through two nodes against a limit of 10")
    }

    func testTheSchemaIsMigratedOnceAndAnotherVersionIsRefused() async throws {
        let server = try PostgresFixture.server()
        let name = PostgresFixture.uniqueName("s")
        try server.createDatabase(name)
        let config = try PostgresFixture.config(server, database: name)
        let storage = try PostgresFixture.storage(config)
        // Not migrated: every operation says what to run.
        do {
            _ = try await storage.store((any CredentialStoring).self).list()
            XCTFail("a store worked on a database never migrated")
        } catch {
            XCTAssertTrue("\(error)".contains("schema is at version 0"), "\(error)")
            XCTAssertTrue("\(error)".contains("sluice storage migrate"), "\(error)")
        }
        let schema = try storage.store((any StorageSchema).self)
        let found = try await schema.found()
        XCTAssertEqual(found, 0)
        let applied = try await schema.migrate()
        XCTAssertEqual(applied, Array(1...schema.wanted))
        let again = try await schema.migrate()
        XCTAssertEqual(again, [], "a second migrate has nothing to do")
        let listed = try await storage.store((any CredentialStoring).self).list()
        XCTAssertEqual(listed, [])
        // A newer schema (a newer sluice migrated it): refused, never migrated down.
        try server.query("UPDATE sluice_schema SET version = \(schema.wanted + 5)", database: name)
        let fresh = try PostgresFixture.storage(config)
        do {
            _ = try await fresh.store((any StorageSchema).self).migrate()
            XCTFail("a newer schema was migrated")
        } catch {
            XCTAssertTrue("\(error)".contains("version \(schema.wanted + 5)"), "\(error)")
            XCTAssertTrue("\(error)".contains("newer"), "\(error)")
        }
        do {
            _ = try await fresh.store((any CredentialStoring).self).list()
            XCTFail("a store worked on a newer schema")
        } catch {
            XCTAssertTrue("\(error)".contains("newer"), "\(error)")
        }
    }

    func testTheDatabaseDownFollowsOnUnavailableAndComesBack() async throws {
        // Its own server: this test stops it.
        let server = try PostgresInstance()
        defer { server.stop() }
        let name = PostgresFixture.uniqueName("d")
        try server.createDatabase(name)
        let closedConfig = try PostgresFixture.config(server, database: name, extra: ", timeout: 2s")
        let closed = try PostgresFixture.storage(closedConfig)
        _ = try await closed.store((any StorageSchema).self).migrate()
        let open = try PostgresFixture.storage(try PostgresFixture.config(server, database: name, extra: ", timeout: 2s, on_unavailable: fail_open"))
        let limit = RateLimitRequest(key: "messages|60|ip 192.0.2.9", window: 60, limit: 100)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let closedLimits = try closed.store((any RateLimitCounting).self)
        let openLimits = try open.store((any RateLimitCounting).self)
        let up = await closedLimits.admit([limit], at: t)
        XCTAssertNil(up)
        let creds = try closed.store((any CredentialStoring).self)
        let secret = try await creds.add(user: "app", name: "web", allowFrom: nil, expiresIn: nil)

        server.stop()
        let refused = await closedLimits.admit([limit], at: t)
        XCTAssertEqual(refused, limit, "fail_closed: refused while the database is down")
        let admitted = await openLimits.admit([limit], at: t)
        XCTAssertNil(admitted, "fail_open: let through")
        let blocked = await AuthThrottle(
            policy: AuthThrottlePolicy(), failures: try closed.store((any AuthFailureCounting).self), clock: WallClock()
        ).isBlocked(ip: "192.0.2.9", user: "app")
        XCTAssertTrue(blocked, "fail_closed: AUTH is refused (454) while the failures cannot be counted")
        let notBlocked = await AuthThrottle(
            policy: AuthThrottlePolicy(), failures: try open.store((any AuthFailureCounting).self), clock: WallClock()
        ).isBlocked(ip: "192.0.2.9", user: "app")
        XCTAssertFalse(notBlocked)
        let started = Date()
        do {
            _ = try await creds.authenticate(user: "app", secret: secret)
            XCTFail("authenticated with the database down")
        } catch let e as PostgresStoreError {
            XCTAssertEqual(e.kind, .unavailable, "\(e)")
            XCTAssertFalse("\(e)".contains(server.password), "the error shows no password")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "bounded by the timeout, not hanging")

        try server.start()
        // Back: the pool reconnects (polled with a bound, never a fixed sleep).
        let deadline = Date().addingTimeInterval(60)
        var back: String?
        while back == nil && Date() < deadline {
            back = try? await creds.authenticate(user: "app", secret: secret)
            if back == nil { try await Task.sleep(nanoseconds: 200_000_000) }
        }
        XCTAssertEqual(back, "web")
    }

    func testTheSectionsErrorsNameFileLineAndColumn() throws {
        let dir = NSTemporaryDirectory() + "sluice-pgerr-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/etc/sluice.yaml"
        let head = "listeners:\n  - { name: relay, address: 127.0.0.1:2525 }\nstorage:\n  backend: postgres\n"
        let cases: [(String, Int, Int, String)] = [
            ("  postgres: { url: \"mysql://x@h/db\" }\n", 5, 20, "expected a URL such as postgres://"),
            ("  postgres: { url: \"postgres://u:secret@h/db\" }\n", 5, 20, "put it in password_file"),
            ("  postgres: { url: \"postgres://h/db\" }\n", 5, 20, "needs a user name"),
            ("  postgres: { url: \"postgres://u@h/db?sslmode=maybe\" }\n", 5, 20, "sslmode must be one of"),
            ("  postgres: { url: \"postgres://u@h/db\", password_file: /nonexistent/pw }\n", 5, 56, "cannot read the password file /nonexistent/pw"),
            ("  postgres: { url: \"postgres://u@h/db\", pool_size: 0 }\n", 5, 52, "between 1 and 1000"),
            ("  postgres: { url: \"postgres://u@h/db\", on_unavailable: maybe }\n", 5, 57, "fail_closed"),
            ("  postgres: { uri: \"postgres://u@h/db\" }\n", 5, 15, "unknown key 'uri'"),
        ]
        for (yaml, line, column, reason) in cases {
            do {
                _ = try SluiceConfiguration.parse(yaml: head + yaml, file: file, sections: [PostgresSection.self])
                XCTFail("accepted: \(yaml)")
            } catch let e as ConfigError {
                XCTAssertEqual(e.line, line, "\(e)")
                XCTAssertEqual(e.column, column, "\(e)")
                XCTAssertTrue(e.reason.contains(reason), "\(e)")
            }
        }
        // Named without its settings: refused where the backend is named, when the runtime is built (before any port).
        let bare = try SluiceConfiguration.parse(yaml: head, file: file, sections: [PostgresSection.self])
        XCTAssertThrowsError(try PostgresComponent.settings(bare)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(file):4:12: storage.backend: postgres needs storage.postgres"), "\(e)")
        }
        // A unix socket directory and the password-free display form.
        let socket = try SluiceConfiguration.parse(
            yaml: head + "  postgres: { url: \"postgres://sluice@/mail?host=/run/postgresql\" }\n", file: file, sections: [PostgresSection.self])
        let s = try XCTUnwrap(socket.section(PostgresSection.self))
        XCTAssertEqual(s.endpoint, .unixSocket("/run/postgresql/.s.PGSQL.5432"))
        XCTAssertEqual(s.database, "mail")
        XCTAssertEqual(s.displayURL, "postgres://sluice@/mail?host=/run/postgresql")
    }
}
