// PostgresDatabase: one pool of connections (postgres-nio's PostgresClient)
// to the shared store, for every postgres store of a process. Each operation
// has a deadline (`timeout:`; a database that does not answer counts as
// unavailable instead of holding an SMTP session), and the first one checks
// that the schema is this binary's.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import PostgresNIO
import SluiceCore

public final class PostgresDatabase: Sendable {
    public let settings: PostgresSection
    let client: PostgresClient
    let logger: Logger
    /// The one clock (times written to the store, how often an outage is logged).
    let clock: any SluiceClock
    private let runner: Task<Void, Never>
    private let schemaChecked = NIOLockedValueBox(false)

    public init(_ settings: PostgresSection, logger: Logger, clock: any SluiceClock) throws {
        self.settings = settings
        self.logger = logger
        self.clock = clock
        var config: PostgresClient.Configuration
        switch settings.endpoint {
        case .tcp(let host, let port):
            config = .init(host: host, port: port, username: settings.user, password: settings.password, database: settings.database, tls: try Self.tls(settings))
        case .unixSocket(let path):
            config = .init(unixSocketPath: path, username: settings.user, password: settings.password, database: settings.database)
        }
        config.options.maximumConnections = settings.poolSize
        config.options.connectTimeout = .milliseconds(Int64(settings.timeout * 1000))
        // The pool logs each failed connection attempt at info; the stores say once a minute that the database is
        // unavailable, and that is what the log needs.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: config, backgroundLogger: background)
        self.client = client
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    static func tls(_ s: PostgresSection) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let root = s.rootCertificate { tls.trustRoots = .file(root) }
        switch s.tls {
        case .disable: return .disable
        case .prefer, .require:
            // libpq's meaning: encrypted, the certificate not checked.
            tls.certificateVerification = .none
            return s.tls == .prefer ? .prefer(tls) : .require(tls)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(tls)
        }
    }

    /// Runs `body` against the pool within the deadline, after checking the schema once.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await withDeadline {
            if !self.schemaChecked.withLockedValue({ $0 }) {
                try Self.verify(version: try await self.version(self.client), database: self.settings.displayURL)
                self.schemaChecked.withLockedValue { $0 = true }
            }
            return try await body(self.client)
        }
    }

    /// In a transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await run { client in
            try await client.withTransaction(logger: self.logger) { connection in try await body(connection) }
        }
    }

    func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let seconds = settings.timeout
        let name = settings.displayURL
        do {
            return try await Deadline.run(seconds: seconds, body)
        } catch is Deadline.Expired {
            throw PostgresStoreError(.unavailable, "\(name): no answer within \(Self.format(seconds))")
        } catch {
            throw PostgresStoreError.from(error, database: name)
        }
    }

    static func format(_ seconds: Double) -> String { seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s" }

    // MARK: schema

    /// The schema's version; 0 for a database Sluice never migrated.
    func version(_ client: PostgresClient) async throws -> Int {
        let rows = try await client.query("SELECT to_regclass('sluice_schema') IS NOT NULL", logger: logger)
        var exists = false
        for try await e in rows.decode(Bool.self) { exists = e }
        guard exists else { return 0 }
        var version = 0
        for try await v in try await client.query("SELECT version FROM sluice_schema", logger: logger).decode(Int.self) { version = v }
        return version
    }

    static func verify(version: Int, database: String) throws {
        if version < Schema.current {
            throw PostgresStoreError(
                .schema, "\(database): the schema is at version \(version), this sluice needs \(Schema.current): run `sluice storage migrate`")
        }
        if version > Schema.current {
            throw PostgresStoreError(
                .schema,
                "\(database): the schema is at version \(version), newer than this sluice's \(Schema.current); run the newer sluice (a schema is never migrated down)")
        }
    }

    /// The schema's version, read without the check (for `check` and `status`).
    public func schemaVersion() async throws -> Int {
        try await withDeadline { try await self.version(self.client) }
    }

    /// Applies the missing migrations; returns the versions applied (none when current). Refuses a newer schema.
    public func migrate() async throws -> [Int] {
        let name = settings.displayURL
        let applied: [Int] = try await withDeadline {
            try await self.client.withConnection { c in
                try await c.query("CREATE TABLE IF NOT EXISTS sluice_schema (version integer NOT NULL)", logger: self.logger)
                var applied: [Int] = []
                while true {
                    let done = try await c.withTransaction(logger: self.logger) { tx -> Int? in
                        try await tx.query("SELECT pg_advisory_xact_lock(\(Schema.lockKey))", logger: self.logger)
                        var version: Int?
                        for try await v in try await tx.query("SELECT version FROM sluice_schema FOR UPDATE", logger: self.logger).decode(Int.self) {
                            version = v
                        }
                        if version == nil { try await tx.query("INSERT INTO sluice_schema (version) VALUES (0)", logger: self.logger) }
                        let from = version ?? 0
                        if from > Schema.current { try Self.verify(version: from, database: name) }
                        guard from < Schema.current else { return nil }
                        for statement in Schema.migrations[from] { try await tx.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                        try await tx.query("UPDATE sluice_schema SET version = \(from + 1)", logger: self.logger)
                        return from + 1
                    }
                    guard let done else { return applied }
                    applied.append(done)
                }
            }
        }
        schemaChecked.withLockedValue { $0 = true }
        return applied
    }
}
