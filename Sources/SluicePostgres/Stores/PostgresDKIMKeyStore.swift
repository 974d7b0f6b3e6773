// PostgresDKIMKeyStore: DKIM keys and their states in the shared database,
// so that every node signs a domain with the same selector and key, and a
// state changed on one node (publish-only -> active -> retired) holds on all
// (SES's Deterministic Easy DKIM). The configuration names the domains (and
// a selector's first state); the store's state, once set, is the truth, and
// the store's other selectors of a configured domain are in force too.
// Private keys are sealed with the key-encryption key file each node holds
// (storage.postgres.kek_file, AES-256-GCM, the archive key file's format):
// the database alone never yields a key. Each read is copied, still sealed,
// to data_dir/postgres/dkim-keys.json, which a node starting or reloading
// while the database is down signs from (and says so).

import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import SluiceArchive
import SluiceMailAuth

public final class PostgresDKIMKeyStore: DKIMKeyStore {
    let db: PostgresDatabase
    let cacheFile: String
    let clock: @Sendable () -> Date
    private let ring = NIOLockedValueBox<ArchiveKeyRing??>(nil)

    public init(_ db: PostgresDatabase, dataDir: String, clock: @escaping @Sendable () -> Date) {
        self.db = db
        cacheFile = dataDir + "/postgres/dkim-keys.json"
        self.clock = clock
    }

    /// The key-encryption keys; nil when kek_file is not configured.
    func kek() throws -> ArchiveKeyRing? {
        try ring.withLockedValue { ring -> ArchiveKeyRing? in
            if let loaded = ring { return loaded }
            var loaded: ArchiveKeyRing?
            if let file = db.settings.kekFile {
                do { loaded = try ArchiveKeyRing.load(file: file) } catch { throw DKIMKeyStoreError("storage.postgres.kek_file: \(error)") }
            }
            ring = .some(loaded)
            return loaded
        }
    }

    func requireKEK() throws -> ArchiveKeyRing {
        guard let k = try kek() else {
            throw DKIMKeyStoreError(
                "storage.postgres.kek_file is needed to keep DKIM keys in the shared store (sluice archive keygen --out FILE makes one; "
                    + "copy the same file to every node)")
        }
        return k
    }

    struct Row: Codable, Sendable {
        var domain: String
        var selector: String
        var algorithm: String
        /// Sealed with the KEK (base64 in the cache file).
        var sealed: Data?
        var state: String?
    }

    public func keys(configured: [DKIMKeySettings]) async throws -> [DKIMKeyRecord] {
        let domains = Array(Set(configured.map { $0.domain.lowercased() })).sorted()
        guard !domains.isEmpty else { return [] }  // no domain to sign for: nothing to ask the store
        var rows: [Row]
        var note: String?
        do {
            rows = try await db.run { client in
                var out: [Row] = []
                let result = try await client.query(
                    "SELECT domain, selector, algorithm, private_key, state FROM dkim_key WHERE domain = ANY(\(domains)) ORDER BY domain, selector",
                    logger: self.db.logger)
                for try await (d, s, a, k, st) in result.decode((String, String, String, Data?, String?).self) {
                    out.append(Row(domain: d, selector: s, algorithm: a, sealed: k, state: st))
                }
                return out
            }
            saveCache(rows)
        } catch let e as PostgresStoreError where e.kind == .unavailable {
            guard let cached = loadCache() else { throw DKIMKeyStoreError("the shared store is unavailable and no copy of its keys is kept here: \(e)") }
            rows = cached.filter { domains.contains($0.domain) }
            note = "from this node's copy (the shared store is unavailable: \(e))"
        }
        let kek: Result<ArchiveKeyRing?, any Error> = Result { try self.kek() }
        var byName = Dictionary(rows.map { ("\($0.domain)/\($0.selector)", $0) }, uniquingKeysWith: { a, _ in a })
        var out: [DKIMKeyRecord] = []
        for k in configured {
            let row = byName.removeValue(forKey: "\(k.domain.lowercased())/\(k.selector)")
            let state = row?.state.flatMap(DKIMKeySettings.State.init(rawValue:)) ?? k.state
            var r = record(domain: k.domain.lowercased(), selector: k.selector, algorithm: k.algorithm, state: state, row: row, kek: kek, note: note)
            r.location = k.location
            r.headers = k.headers
            r.oversign = k.oversign
            out.append(r)
        }
        // The store's other selectors of configured domains (made by dkim keygen on some node).
        for row in byName.values.sorted(by: { ($0.domain, $0.selector) < ($1.domain, $1.selector) }) {
            let state = row.state.flatMap(DKIMKeySettings.State.init(rawValue:)) ?? .publishOnly
            let algorithm = DKIMKeySettings.Algorithm(rawValue: row.algorithm) ?? .rsaSHA256
            out.append(record(domain: row.domain, selector: row.selector, algorithm: algorithm, state: state, row: row, kek: kek, note: note))
        }
        return out
    }

    func record(
        domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm, state: DKIMKeySettings.State, row: Row?,
        kek: Result<ArchiveKeyRing?, any Error>, note: String?
    ) -> DKIMKeyRecord {
        let name = "\(selector)._domainkey.\(domain)"
        var r = DKIMKeyRecord(
            domain: domain, selector: selector, algorithm: algorithm, state: state, privateKeyPEM: nil,
            storedAt: "the shared store (\(db.settings.displayURL), dkim_key \(domain)/\(selector))" + (note.map { " " + $0 } ?? ""))
        guard state != .retired else { return r }
        guard let sealed = row?.sealed else {
            r.problem = "the shared store has no private key for \(name) (sluice dkim keygen --domain \(domain) --selector \(selector))"
            return r
        }
        let ring: ArchiveKeyRing
        switch kek {
        case .success(let k?): ring = k
        case .success(nil):
            r.problem = "the key of \(name) is sealed, and storage.postgres.kek_file is not configured to open it"
            return r
        case .failure(let error):
            r.problem = "the key of \(name) is sealed, and \(error)"
            return r
        }
        do {
            r.privateKeyPEM = String(decoding: try ring.open([UInt8](sealed)), as: UTF8.self)
        } catch {
            r.problem = "the key of \(name) does not open with storage.postgres.kek_file: \(error)"
        }
        return r
    }

    public func add(domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm, privateKeyPEM: String) async throws -> String {
        let sealed = Data(try requireKEK().seal(Array(privateKeyPEM.utf8)))
        let (d, t) = (domain.lowercased(), clock().timeIntervalSince1970)
        let inserted = try await db.run { client in
            var n = 0
            let rows = try await client.query(
                """
                INSERT INTO dkim_key (domain, selector, algorithm, private_key, created_at, changed_at)
                VALUES (\(d), \(selector), \(algorithm.rawValue), \(sealed), \(t), \(t))
                ON CONFLICT (domain, selector) DO UPDATE SET private_key = excluded.private_key, algorithm = excluded.algorithm
                    WHERE dkim_key.private_key IS NULL
                RETURNING 1
                """, logger: self.db.logger)
            for try await _ in rows.decode(Int.self) { n += 1 }
            if n > 0 { try await Self.bump(client, self.db) }
            return n
        }
        guard inserted > 0 else {
            throw DKIMKeyStoreError("the shared store has a key for \(selector)._domainkey.\(d); a key is never replaced (pick a new selector for a new key)")
        }
        return "the shared store (\(db.settings.displayURL), dkim_key \(d)/\(selector), sealed with kek_file)"
    }

    /// Tells every node that keys or states changed (each reloads when it sees the serial move).
    static func bump(_ client: PostgresClient, _ db: PostgresDatabase) async throws {
        try await client.query(
            "INSERT INTO sluice_serial (name, serial) VALUES ('dkim', 1) ON CONFLICT (name) DO UPDATE SET serial = sluice_serial.serial + 1",
            logger: db.logger)
    }

    public func privateKey(domain: String, selector: String) async throws -> String? {
        let d = domain.lowercased()
        let sealed: Data? = try await db.run { client in
            var found: Data?
            for try await k in try await client.query(
                "SELECT private_key FROM dkim_key WHERE domain = \(d) AND selector = \(selector)", logger: self.db.logger
            ).decode(Data?.self) {
                found = k
            }
            return found
        }
        guard let sealed else { return nil }
        return String(decoding: try requireKEK().open([UInt8](sealed)), as: UTF8.self)
    }

    public func setState(domain: String, selector: String, state: DKIMKeySettings.State, configured: [DKIMKeySettings]) async throws {
        let d = domain.lowercased()
        let entry = configured.first { $0.domain.lowercased() == d && $0.selector == selector }
        let algorithm = (entry?.algorithm ?? .rsaSHA256).rawValue
        let t = clock().timeIntervalSince1970
        let known = try await db.run { client in
            var n = 0
            // A configured selector without a row yet gets one (its state only); any other must be in the store.
            let rows = try await client.query(
                entry == nil
                    ? "UPDATE dkim_key SET state = \(state.rawValue), changed_at = \(t) WHERE domain = \(d) AND selector = \(selector) RETURNING 1"
                    : """
                    INSERT INTO dkim_key (domain, selector, algorithm, state, created_at, changed_at)
                    VALUES (\(d), \(selector), \(algorithm), \(state.rawValue), \(t), \(t))
                    ON CONFLICT (domain, selector) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at RETURNING 1
                    """, logger: self.db.logger)
            for try await _ in rows.decode(Int.self) { n += 1 }
            if n > 0 { try await Self.bump(client, self.db) }
            return n
        }
        guard known > 0 else {
            throw DKIMKeyStoreError(
                "\(selector)._domainkey.\(d) is neither in the dkim: list of the configuration nor in the shared store "
                    + "(sluice dkim keygen --domain \(d) --selector \(selector) makes it)")
        }
    }

    /// The serial every key or state change moves (0 before the first).
    public func serial() async throws -> Int64 {
        try await db.run { client in
            var n: Int64 = 0
            for try await s in try await client.query("SELECT serial FROM sluice_serial WHERE name = 'dkim'", logger: self.db.logger).decode(Int64.self) {
                n = s
            }
            return n
        }
    }

    func saveCache(_ rows: [Row]) {
        do {
            try FileManager.default.createDirectory(
                atPath: (cacheFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let data = try JSONEncoder().encode(rows)
            let tmp = cacheFile + ".tmp"
            guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
            _ = rename(tmp, cacheFile)
        } catch {
            db.logger.warning("cannot keep a copy of the shared DKIM keys", metadata: ["file": "\(cacheFile)", "error": "\(error)"])
        }
    }

    func loadCache() -> [Row]? {
        guard let data = FileManager.default.contents(atPath: cacheFile) else { return nil }
        do { return try JSONDecoder().decode([Row].self, from: data) } catch {
            db.logger.warning("the copy of the shared DKIM keys does not read; it is not used", metadata: ["file": "\(cacheFile)", "error": "\(error)"])
            return nil
        }
    }
}
