// `sluice storage migrate`: brings a shared store's schema to this binary's
// version (R-DELIVER-7). Safe to run on every node at once (the migrations
// take turns under a lock) and again (nothing to do); a schema newer than the
// binary is refused, never migrated down. The embedded SQLite files migrate
// themselves when opened.

import ArgumentParser
import Foundation
import SluicePipeline

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "The shared store of several nodes (storage.backend).", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the missing schema migrations of storage.backend.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let config = try options.load()
            let storage = try options.storage(config)
            guard storage.backend != embeddedBackend else {
                print("storage: \(embeddedBackend): the SQLite files in \(config.dataDir) migrate themselves when opened; nothing to do")
                return
            }
            let schema = try StorageCommand.schema(storage)
            do {
                let applied = try await schema.migrate()
                print(
                    applied.isEmpty
                        ? "storage: \(storage.backend) \(schema.location): the schema is at version \(schema.wanted), nothing to do"
                        : "storage: \(storage.backend) \(schema.location): applied \(applied.map { "v\($0)" }.joined(separator: ", ")); the schema is at version \(schema.wanted)")
            } catch {
                throw UserError("storage: \(error)")
            }
        }
    }

    static func schema(_ storage: Storage) throws -> any StorageSchema {
        do { return try storage.store((any StorageSchema).self) } catch { throw UserError("storage: \(error)") }
    }

    /// `sluice check`'s line: an outdated or newer schema is an error, a store that cannot be reached a warning
    /// (the daemon starts without it: mail needing no shared state flows).
    static func check(_ storage: Storage) async throws -> String? {
        guard storage.backend != embeddedBackend else { return nil }
        let schema = try schema(storage)
        let found: Int
        do {
            found = try await schema.found()
        } catch {
            FileHandle.standardError.write(Data("sluice: warning: storage: \(error)\n".utf8))
            return nil
        }
        if found < schema.wanted {
            throw UserError("storage: \(schema.location): the schema is at version \(found), this sluice needs \(schema.wanted): run `sluice storage migrate`")
        }
        if found > schema.wanted {
            throw UserError(
                "storage: \(schema.location): the schema is at version \(found), newer than this sluice's \(schema.wanted); run the newer sluice")
        }
        return "storage: \(storage.backend) \(schema.location): the schema is at version \(found), ok"
    }
}
