// The postgres backend passes the same storage contract suites as the
// embedded one (Tests/SluiceStoreContracts), unchanged, against a real
// PostgreSQL server; each store gets a new, migrated database.

import Foundation
import SluiceArchive
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

    func testTheQuarantineIndexPassesTheContract() async throws {
        let server = try PostgresFixture.server()
        let next = try await PostgresFixture.databases(2, on: server)
        try await QuarantineIndexContract { try PostgresFixture.storage(try next()).store((any QuarantineIndex).self) }.run()
    }
}
