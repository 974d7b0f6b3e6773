// PostgresComponent: `storage.backend: postgres`, the shared store of
// several gateway nodes (R-DELIVER-7). It provides the postgres
// implementation of the storage contracts (credentials and the AUTH
// throttle, rate limits, the quarantine index, the archive, DKIM keys and
// their states, the schema), all on one pool
// per process; every other kind of state stays on the node (the embedded
// stores). The queue is always the node's own: accepted mail never depends on
// the database.

import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceArchive
import SluiceConfig
import SluiceCore
import SluiceCredentials
import SluiceMailAuth
import SluicePipeline
import SluicePolicy
import SluiceAdmin
import SluiceQueue
import SluiceQuarantine

public struct PostgresComponent: Component {
    public let name = "postgres"
    public static let backend = "postgres"
    let databases = Databases()

    public init() {}

    public var sections: [any ConfigSection.Type] { [PostgresSection.self] }

    /// The backend named without its settings is an error where it is named, before anything starts.
    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        guard runtime.storage.backend == Self.backend else { return }
        _ = try Self.settings(runtime.config)
    }

    public func review(_ runtime: Runtime) -> [CheckNote] {
        guard runtime.config.storage.backend == Self.backend, let s = runtime.config.section(PostgresSection.self), s.configured else { return [] }
        var notes: [CheckNote] = [
            .info(
                "storage: postgres \(s.displayURL) (pool \(s.poolSize), timeout \(PostgresDatabase.format(s.timeout)), "
                    + "on_unavailable \(s.onUnavailable.rawValue)): credentials, AUTH throttle, rate limits, quarantine index, archive, DKIM keys shared")
        ]
        if let file = s.passwordFile {
            // The file was read at load; its mode only decides a warning, and so does a mode that cannot be read.
            do {
                if let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int, mode & 0o077 != 0 {
                    notes.append(.warning("storage.postgres: password file \(file) is readable by others; chmod 600 it"))
                }
            } catch {
                notes.append(.warning("storage.postgres: cannot check who may read password file \(file): \(error)"))
            }
        }
        if s.tls == .disable || s.tls == .prefer, case .tcp(let host, _) = s.endpoint, !["127.0.0.1", "::1", "localhost"].contains(host) {
            notes.append(.warning("storage.postgres: sslmode=\(s.tls.rawValue) to \(host) may send the password and the data in clear; use verify-full"))
        }
        return notes
    }

    /// The settings of `storage.postgres`; an error naming where `backend: postgres` is written when they are missing.
    public static func settings(_ config: SluiceConfiguration) throws -> PostgresSection {
        guard let s = config.section(PostgresSection.self), s.configured else {
            throw RuntimeError("\(config.storage.location): storage.backend: postgres needs storage.postgres: { url: postgres://USER@HOST/DATABASE }")
        }
        return s
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon, host.environment.storage.backend == Self.backend, let queue = host.environment.queue else { return }
        let env = host.environment
        let settings = try Self.settings(host.config)
        let db = try databases.open(settings, logger: env.logger, clock: env.clock)
        let index = try env.storage.store((any QuarantineIndex).self)
        let observer = QuarantineIndexer(index: index, queue: queue, node: host.config.hostname, logger: env.logger)
        let quarantine = QuarantineAdmin(
            index: index, queue: QueueAdmin(store: queue, notifier: SelfNotifier(store: queue), observer: observer, clock: env.clock),
            node: host.config.hostname)
        let depth = QueueDepthCounter()
        host.add(queueObserver: depth)
        host.add(
            service: PostgresNodeService(
                registry: PostgresClusterRegistry(db), keys: PostgresDKIMKeyStore(db, dataDir: host.config.dataDir, clock: { env.clock.now() }),
                quarantine: quarantine, depth: depth, environment: env, refresh: settings.refresh, logger: env.logger))
        host.add(status: StatusSection(name: "storage") {
            let schema: JSONValue
            do { schema = .int(Int64(try await db.schemaVersion())) } catch { schema = .string("unavailable: \(error)") }
            return .object([
                "backend": .string(Self.backend), "url": .string(settings.displayURL), "schema": schema, "wanted_schema": .int(Int64(Schema.current)),
            ])
        })
    }

    public func provideStores(_ stores: inout StoreRegistry) {
        let databases = databases
        @Sendable func db(_ context: StorageContext) throws -> PostgresDatabase {
            try databases.open(try Self.settings(context.config), logger: context.logger, clock: context.clock)
        }
        stores.provide((any StorageSchema).self, backend: Self.backend) { PostgresSchema(db: try db($0)) }
        stores.provide((any CredentialStoring).self, backend: Self.backend) { PostgresCredentialStore(try db($0), clock: $0.clock) }
        stores.provide((any CredentialCopying).self, backend: Self.backend) { PostgresCredentialStore(try db($0), clock: $0.clock) }
        stores.provide((any AuthFailureCounting).self, backend: Self.backend) { PostgresAuthFailures(try db($0)) }
        stores.provide((any RateLimitCounting).self, backend: Self.backend) { PostgresRateLimitCounters(try db($0)) }
        stores.provide((any QuarantineIndex).self, backend: Self.backend) { PostgresQuarantineIndex(try db($0)) }
        stores.provide((any ArchiveStore).self, backend: Self.backend) { PostgresArchiveStore(try db($0), keyFile: $0.config.archiveKeyFile) }
        stores.provide((any ClusterRegistry).self, backend: Self.backend) { PostgresClusterRegistry(try db($0)) }
        stores.provide((any DKIMKeyStore).self, backend: Self.backend) { context in
            let clock = context.clock
            return PostgresDKIMKeyStore(try db(context), dataDir: context.config.dataDir, clock: { clock.now() })
        }
    }
}

/// One pool per database a process uses, shared by its stores.
final class Databases: Sendable {
    private let open = NIOLockedValueBox<[String: PostgresDatabase]>([:])

    func open(_ settings: PostgresSection, logger: Logger, clock: any SluiceClock) throws -> PostgresDatabase {
        let key = "\(settings.displayURL) \(settings.poolSize) \(settings.password ?? "")"
        return try open.withLockedValue { open in
            if let db = open[key] { return db }
            let db = try PostgresDatabase(settings, logger: logger, clock: clock)
            open[key] = db
            return db
        }
    }
}
