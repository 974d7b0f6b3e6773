// `sluice storage migrate`: brings a shared store's schema to this binary's
// version (R-DELIVER-7). Safe to run on every node at once (the migrations
// take turns under a lock) and again (nothing to do); a schema newer than the
// binary is refused, never migrated down. The embedded SQLite files migrate
// themselves when opened.

import ArgumentParser
import Foundation
import SluiceArchive
import SluiceConfig
import SluiceCredentials
import SluiceMailAuth
import SluicePipeline
import SluiceQuarantine

struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "The shared store of several nodes (storage.backend).", subcommands: [Migrate.self, Copy.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the missing schema migrations of storage.backend.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The backend to migrate (default: storage.backend), e.g. postgres before `storage copy` moves a node to it.")
        var backend: String?

        func run() async throws {
            var config = try options.load()
            if let backend { config.storage.backend = backend }
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

extension StorageCommand {
    /// `sluice storage copy --from sqlite --to postgres`: one node's embedded state into the shared store, before (or
    /// after) switching storage.backend. Safe to run again: what the destination has is kept, the rest is added.
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this node's credentials, archive, quarantine index and DKIM keys from one backend to another.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The backend to copy from (sqlite).") var from: String
        @Option(help: "The backend to copy to (postgres; its settings come from storage: in the configuration).") var to: String

        func run() async throws {
            let config = try options.loadAsDataOwner()
            guard from == embeddedBackend else { throw UserError("storage copy: --from \(from): only the embedded backend (\(embeddedBackend)) can be copied from") }
            guard to != from else { throw UserError("storage copy: --from and --to are the same backend") }
            var source = config
            source.storage.backend = from
            var destination = config
            destination.storage.backend = to
            let src = try options.storage(source)
            let dst = try options.storage(destination)
            let schema = try StorageCommand.schema(dst)
            do {
                let found = try await schema.found()
                guard found == schema.wanted else {
                    throw UserError("storage copy: \(schema.location): the schema is at version \(found), this sluice needs \(schema.wanted): run `sluice storage migrate --backend \(to)`")
                }
            } catch let e as UserError { throw e } catch { throw UserError("storage copy: \(error)") }
            do {
                try await copyCredentials(src, dst)
                try await copyQuarantine(src, dst, node: config.hostname)
                try await copyArchive(src, dst)
                try await copyDKIM(src, dst, configured: config.dkim)
            } catch let e as UserError { throw e } catch { throw UserError("storage copy: \(error)") }
            print("rate limits and AUTH failure counts are kept in memory by \(from): nothing to copy")
            print("done: set storage.backend: \(to) on this node (and sluice reload or restart) if it is not set yet")
        }

        func copyCredentials(_ src: Storage, _ dst: Storage) async throws {
            let export = try await src.store((any CredentialCopying).self).exportAll()
            let added = try await dst.store((any CredentialCopying).self).importAll(export)
            print("credentials: \(export.principals.count) user(s) with \(export.credentials.count) credential(s) read; \(added) credential(s) added (users already there are kept as they are)")
        }

        func copyQuarantine(_ src: Storage, _ dst: Storage, node: String) async throws {
            var query = QuarantineQuery()
            query.node = node
            query.limit = Int.max / 2
            let records = try await src.store((any QuarantineIndex).self).list(query)
            let index = try dst.store((any QuarantineIndex).self)
            for r in records { try await index.record(r) }
            print("quarantine index: \(records.count) held message(s) of \(node) recorded")
        }

        func copyArchive(_ src: Storage, _ dst: Storage) async throws {
            let source = try src.store((any ArchiveCopySource).self)
            let archive = try dst.store((any ArchiveStore).self)
            var after: Int64 = 0
            var copied = 0
            while true {
                let batch = try await source.export(after: after, limit: 200)
                guard let last = batch.last else { break }
                try await archive.add(batch.map(\.entry))
                copied += batch.count
                after = last.id
            }
            print("archive: \(copied) message(s) copied (messages the destination has already are skipped)")
        }

        func copyDKIM(_ src: Storage, _ dst: Storage, configured: [DKIMKeySettings]) async throws {
            let keys = try await src.store((any DKIMKeyStore).self).keys(configured: configured)
            let store = try dst.store((any DKIMKeyStore).self)
            var copied: [String] = []
            for k in keys {
                if let pem = k.privateKeyPEM {
                    do {
                        _ = try await store.add(domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKeyPEM: pem)
                    } catch let e as DKIMKeyStoreError where e.description.contains("never replaced") {
                        // Already there (a second run): its state is still set below.
                    }
                }
                try await store.setState(domain: k.domain, selector: k.selector, state: k.state, configured: configured)
                copied.append("\(k.name) \(k.state.rawValue)")
            }
            print("dkim: \(copied.isEmpty ? "no key configured" : copied.joined(separator: ", "))")
        }
    }
}
