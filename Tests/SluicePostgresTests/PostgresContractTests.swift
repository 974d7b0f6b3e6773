// The postgres backend passes the same storage contract suites as the
// embedded one (Tests/SluiceStoreContracts), unchanged, against a real
// PostgreSQL server; each store gets a new, migrated database.

import Foundation
import SluiceArchive
import SluiceMailAuth
import SluicePipeline
import SluicePostgres
import SluiceCredentials
import SluicePolicy
import SluiceQuarantine
import SluiceStoreContracts
import SluiceTestSupport
import XCTest

final class PostgresContractTests: XCTestCase {
    override class func tearDown() { PostgresFixture.stop() }

    func testCredentialsPassTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(5, on: server)
        try await CredentialStoreContract { clock in
            try PostgresFixture.storage(try next(), clock: clock).store((any CredentialStoring).self)
        }.run()
    }

    func testAuthFailureCountsPassTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(3, on: server)
        try await AuthFailureCountingContract { try PostgresFixture.storage(try next()).store((any AuthFailureCounting).self) }.run()
    }

    func testRateLimitCountersPassTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(3, on: server)
        try await RateLimitCountingContract { try PostgresFixture.storage(try next()).store((any RateLimitCounting).self) }.run()
    }

    func testTheArchivePassesTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(6, on: server)
        try await ArchiveStoreContract { try PostgresFixture.storage(try next()).store((any ArchiveStore).self) }.run()
    }

    func testDKIMKeysPassTheContractSealedWithTheKEK() async throws {
        let server = try PostgresFixture.server()
        let dir = NSTemporaryDirectory() + "sluice-pgkek-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (ArchiveKeyRing.newKeyLine(id: "kek1") + "\n").write(toFile: dir + "/kek", atomically: true, encoding: .utf8)
        let base = try await PostgresFixture.migratedDatabase(server)
        let database = base.section(PostgresSection.self)!.database
        let config = try PostgresFixture.config(server, database: database, extra: ", kek_file: \(dir)/kek")
        try await DKIMKeyStoreContract { try PostgresFixture.storage(config).store((any DKIMKeyStore).self) }.run()
        // The database holds no key in clear: every row is sealed.
        let stored = try server.query("SELECT encode(private_key, 'escape') FROM dkim_key WHERE private_key IS NOT NULL", database: database)
        XCTAssertTrue(stored.hasPrefix("SLA1"), stored.prefix(40).description)
        XCTAssertFalse(stored.contains("PRIVATE KEY"))
        // Without the KEK a node cannot add keys, and says why.
        let noKEK = try PostgresFixture.storage(try PostgresFixture.config(server, database: database)).store((any DKIMKeyStore).self)
        do {
            _ = try await noKEK.add(domain: "example.test", selector: "s9", algorithm: .ed25519SHA256, privateKeyPEM: "x")
            XCTFail("kept a key without a KEK")
        } catch {
            XCTAssertTrue("\(error)".contains("kek_file is needed"), "\(error)")
        }
    }

    func testNodesReportAndDriftShows() async throws {
        let server = try PostgresFixture.server()
        let registry = try PostgresFixture.storage(try await PostgresFixture.migratedDatabase(server)).store((any ClusterRegistry).self)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let a = NodeReport(node: "a", version: "1.0", configDigest: "c1", rulesDigest: "r1", dkim: ["s1 active x"], queueDepth: 3, startedAt: t, lastSeen: t)
        var b = a
        b.node = "b"
        try await registry.report(a)
        try await registry.report(b)
        var nodes = try await registry.nodes()
        XCTAssertEqual(nodes, [a, b])
        XCTAssertEqual(NodeReport.drift(nodes), [])
        b.rulesDigest = "r2"
        b.queueDepth = 9
        try await registry.report(b)
        nodes = try await registry.nodes()
        XCTAssertEqual(nodes.map(\.queueDepth), [3, 9], "a report replaces the node's last one")
        XCTAssertEqual(NodeReport.drift(nodes), ["rules differs: a: r1 | b: r2"])
    }

    func testTheQuarantineIndexPassesTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(2, on: server)
        try await QuarantineIndexContract { try PostgresFixture.storage(try next()).store((any QuarantineIndex).self) }.run()
    }
}
