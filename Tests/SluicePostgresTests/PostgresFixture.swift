// What the postgres tests share: one real PostgreSQL server for the class,
// and stores opened the way the daemon opens them: a configuration with
// `storage: { backend: postgres, postgres: {...} }` read by the component's
// own section, and Storage asked for a contract.

import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceArchive
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluicePostgres
import SluiceTestSupport
import NIOPosix

enum PostgresFixture {
    /// One server for the whole test process, started on first use.
    static let shared = NIOLockedValueBox<PostgresInstance?>(nil)
    static let counter = NIOLockedValueBox(0)

    static func server() throws -> PostgresInstance {
        try shared.withLockedValue { s in
            if let s { return s }
            let started = try PostgresInstance()
            s = started
            return started
        }
    }

    /// Stops the shared server (a class's tearDown: a server left running would outlive the test process).
    static func stop() {
        let server = shared.withLockedValue { s -> PostgresInstance? in
            defer { s = nil }
            return s
        }
        server?.stop()
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(counter.withLockedValue { $0 += 1; return $0 })_\(getpid())"
    }

    /// A configuration for `database` on `server`; `extra` goes into the postgres: mapping.
    static func config(_ server: PostgresInstance, database: String, extra: String = "", top: String = "") throws -> SluiceConfiguration {
        let dir = NSTemporaryDirectory() + "sluice-pgcfg-\(UUID().uuidString.prefix(8))"
        let yaml = """
            data_dir: \(dir)/var
            \(top)storage:
              backend: postgres
              postgres: { url: "\(server.url(database))", password_file: "\(server.passwordFile)", pool_size: 4\(extra) }
            listeners:
              - { name: relay, address: 127.0.0.1:2525 }
            """
        return try SluiceConfiguration.parse(
            yaml: yaml, file: dir + "/etc/sluice.yaml", sections: [PostgresSection.self, ArchivesSection.self, ArchiveEncryptionSection.self])
    }

    static func storage(_ config: SluiceConfiguration, clock: any SluiceClock = WallClock()) throws -> Storage {
        let executors = Executors.single()
        executors.start()
        return try Storage(
            components: [PostgresComponent()],
            context: StorageContext(config: config, executors: executors, clock: clock, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }))
    }

    /// A new database, migrated, and its configuration.
    static func migratedDatabase(_ server: PostgresInstance) async throws -> SluiceConfiguration {
        let name = uniqueName("c")
        try server.createDatabase(name)
        let config = try config(server, database: name)
        _ = try await storage(config).store((any StorageSchema).self).migrate()
        return config
    }

    /// `count` migrated databases, handed out one per call of the result (a contract's `make`).
    static func databases(_ count: Int, on server: PostgresInstance) async throws -> () throws -> SluiceConfiguration {
        var configs: [SluiceConfiguration] = []
        for _ in 0..<count { configs.append(try await migratedDatabase(server)) }
        let box = NIOLockedValueBox(configs)
        return {
            try box.withLockedValue { configs in
                guard !configs.isEmpty else { throw PostgresUnavailable(description: "the test made more stores than it prepared databases") }
                return configs.removeFirst()
            }
        }
    }
}

enum NIOThreadPoolForTests {
    static func make() -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }
}
