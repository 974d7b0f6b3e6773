// SQLiteCredentialStore: SMTP credentials in SQLite (GRDB, WAL) in the data
// dir: the embedded implementation of CredentialStoring.
// A principal (a user, an application) holds named credentials, one per
// device or server, each with an expiry, revocable one by one, and rotatable
// with an overlap in which old and new both work. Only hashes are stored.
// The daemon and the CLI open the same file; changes apply to the next AUTH.

import Foundation
import GRDB
import SluiceCore

public struct CredentialInfo: Sendable, Equatable {
    public enum State: String, Sendable {
        case active, retiring, expired, revoked, retired
    }

    /// One secret: a rotation makes a new id under the same name.
    public var id: Int64
    public var user: String
    public var name: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var retiresAt: Date?
    public var revokedAt: Date?
    public var allowFrom: [String]

    public init(
        id: Int64, user: String, name: String, createdAt: Date, expiresAt: Date?, lastUsedAt: Date?, retiresAt: Date?, revokedAt: Date?,
        allowFrom: [String]
    ) {
        self.id = id
        self.user = user
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.retiresAt = retiresAt
        self.revokedAt = revokedAt
        self.allowFrom = allowFrom
    }

    public func state(at now: Date) -> State {
        if revokedAt != nil { return .revoked }
        if let r = retiresAt { return now < r ? .retiring : .retired }
        if let e = expiresAt, now >= e { return .expired }
        return .active
    }
}

public struct CredentialError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

struct Candidate: Sendable {
    let id: Int64
    let name: String
    let hash: [UInt8]
}

public final class SQLiteCredentialStore: CredentialStoring {
    let db: DatabasePool
    /// The one clock (expiry, rotation overlap, last use).
    let now: @Sendable () -> Date

    public init(path: String, now: @escaping @Sendable () -> Date = { Date() }) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(5)
        db = try DatabasePool(path: path, configuration: config)
        self.now = now
        try Self.migrator.migrate(db)
        chmod(path, 0o600)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.create(table: "principal") { t in
                t.column("name", .text).primaryKey()
                t.column("allow_from", .text).notNull().defaults(to: "")
                t.column("created_at", .double).notNull()
            }
            try db.create(table: "credential") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("principal", .text).notNull().references("principal", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("secret_hash", .blob).notNull()
                t.column("created_at", .double).notNull()
                t.column("expires_at", .double)
                t.column("last_used_at", .double)
                t.column("retires_at", .double)
                t.column("revoked_at", .double)
            }
            try db.create(index: "credential_principal", on: "credential", columns: ["principal", "name"])
        }
        return m
    }

    /// Creates a credential (and its principal if new); returns the secret, shown once.
    public func add(user: String, name: String, allowFrom: [String]?, expiresIn: Double?) async throws -> String {
        try CredentialRules.checkNames(user: user, name: name)
        let secret = Secret.generate()
        let t = now()
        try await db.write { db in
            if let current = try String.fetchOne(db, sql: "SELECT allow_from FROM principal WHERE name = ?", arguments: [user]) {
                try CredentialRules.checkAllowFrom(user: user, current: current, requested: allowFrom)
            } else {
                try db.execute(
                    sql: "INSERT INTO principal (name, allow_from, created_at) VALUES (?, ?, ?)",
                    arguments: [user, (allowFrom ?? []).joined(separator: ","), t.timeIntervalSince1970])
            }
            let live = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM credential WHERE principal = ? AND name = ? AND revoked_at IS NULL AND retires_at IS NULL",
                arguments: [user, name]) ?? 0
            guard live == 0 else { throw CredentialRules.nameTaken(user: user, name: name) }
            try db.execute(
                sql: "INSERT INTO credential (principal, name, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [user, name, Data(Secret.hash(secret)), t.timeIntervalSince1970, expiresIn.map { t.timeIntervalSince1970 + $0 }])
        }
        return secret
    }

    /// Issues a new secret for USER/NAME; the old one keeps working for `overlap` seconds.
    public func rotate(user: String, name: String, overlap: Double) async throws -> String {
        let secret = Secret.generate()
        let t = now()
        try await db.write { db in
            guard let old = try Row.fetchOne(
                db, sql: "SELECT id, expires_at, created_at FROM credential WHERE principal = ? AND name = ? AND revoked_at IS NULL AND retires_at IS NULL",
                arguments: [user, name])
            else { throw CredentialRules.noLiveCredential(user: user, name: name) }
            let oldID: Int64 = old["id"]
            let lifetime = (old["expires_at"] as Double?).map { $0 - (old["created_at"] as Double) }
            try db.execute(sql: "UPDATE credential SET retires_at = ? WHERE id = ?", arguments: [t.timeIntervalSince1970 + overlap, oldID])
            try db.execute(
                sql: "INSERT INTO credential (principal, name, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [user, name, Data(Secret.hash(secret)), t.timeIntervalSince1970, lifetime.map { t.timeIntervalSince1970 + $0 }])
        }
        return secret
    }

    /// Revokes every secret of USER/NAME (the device: current and retiring) at once; returns what it revoked.
    @discardableResult
    public func revoke(user: String, name: String) async throws -> [CredentialInfo] {
        try await revoke(user: user, where: "name = ?", name, missing: CredentialRules.nothingToRevoke(user: user, name: name))
    }

    /// Revokes one secret by the id `creds list` shows; returns it.
    @discardableResult
    public func revoke(user: String, id: Int64) async throws -> [CredentialInfo] {
        try await revoke(user: user, where: "id = ?", id, missing: CredentialRules.nothingToRevoke(user: user, id: id))
    }

    private func revoke(
        user: String, where filter: String, _ value: some DatabaseValueConvertible & Sendable, missing: CredentialError
    ) async throws -> [CredentialInfo] {
        let t = now().timeIntervalSince1970
        let ids = try await db.write { db -> [Int64] in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM credential WHERE principal = ? AND \(filter) AND revoked_at IS NULL", arguments: [user, value])
            guard !ids.isEmpty else { throw missing }
            for id in ids { try db.execute(sql: "UPDATE credential SET revoked_at = ? WHERE id = ?", arguments: [t, id]) }
            return ids
        }
        return try await list().filter { $0.user == user && ids.contains($0.id) }
    }

    /// Changes what USER may send as: adds and removes domains or addresses; returns the new list.
    @discardableResult
    public func allow(user: String, add: [String], remove: [String]) async throws -> [String] {
        try await db.write { db in
            guard let current = try String.fetchOne(db, sql: "SELECT allow_from FROM principal WHERE name = ?", arguments: [user]) else {
                throw CredentialRules.noUser(user)
            }
            let list = try CredentialRules.changed(CredentialRules.splitList(current), user: user, add: add, remove: remove)
            try db.execute(sql: "UPDATE principal SET allow_from = ? WHERE name = ?", arguments: [list.joined(separator: ","), user])
            return list
        }
    }

    public func list() async throws -> [CredentialInfo] {
        try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.principal, c.name, c.created_at, c.expires_at, c.last_used_at, c.retires_at, c.revoked_at, p.allow_from, c.id
                    FROM credential c JOIN principal p ON p.name = c.principal ORDER BY c.principal, c.name, c.created_at, c.id
                    """
            ).map { row in
                CredentialInfo(
                    id: row[8], user: row[0], name: row[1], createdAt: Date(timeIntervalSince1970: row[2]),
                    expiresAt: (row[3] as Double?).map(Date.init(timeIntervalSince1970:)),
                    lastUsedAt: (row[4] as Double?).map(Date.init(timeIntervalSince1970:)),
                    retiresAt: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)),
                    revokedAt: (row[6] as Double?).map(Date.init(timeIntervalSince1970:)),
                    allowFrom: CredentialRules.splitList(row[7]))
            }
        }
    }

    /// Checks USER/secret against every usable credential of USER; records last use.
    /// Returns the matching credential's name, or nil.
    public func authenticate(user: String, secret: String) async throws -> String? {
        let hash = Secret.hash(secret)
        let t = now().timeIntervalSince1970
        let rows: [Candidate] = try await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, name, secret_hash FROM credential
                    WHERE principal = ? AND revoked_at IS NULL
                      AND (expires_at IS NULL OR expires_at > ?) AND (retires_at IS NULL OR retires_at > ?)
                    """, arguments: [user, t, t]
            ).map { Candidate(id: $0["id"], name: $0["name"], hash: Array($0["secret_hash"] as Data)) }
        }
        guard let matched = CredentialRules.match(hash, among: rows.map { ($0.id, $0.name, $0.hash) }) else { return nil }
        try await db.write { db in
            try db.execute(sql: "UPDATE credential SET last_used_at = ? WHERE id = ?", arguments: [t, matched.id])
        }
        return matched.name
    }

    /// The sender addresses/domains USER may use; empty means none configured.
    public func allowedSenders(user: String) async throws -> SenderAllowList {
        let text = try await db.read { db in
            try String.fetchOne(db, sql: "SELECT allow_from FROM principal WHERE name = ?", arguments: [user])
        }
        return SenderAllowList(CredentialRules.splitList(text ?? ""))
    }

}

extension SQLiteCredentialStore: CredentialCopying {
    public func exportAll() async throws -> CredentialExport {
        let hashes = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, secret_hash FROM credential").map { ($0[0] as Int64, Array($0[1] as Data)) }
        }
        let byID = Dictionary(uniqueKeysWithValues: hashes)
        let principals = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT name, allow_from, created_at FROM principal ORDER BY name").map {
                CredentialExport.Principal(name: $0[0], allowFrom: CredentialRules.splitList($0[1]), createdAt: Date(timeIntervalSince1970: $0[2]))
            }
        }
        let credentials = try await list().map { CredentialExport.Credential(info: $0, hash: byID[$0.id] ?? []) }
        return CredentialExport(principals: principals, credentials: credentials)
    }

    public func importAll(_ e: CredentialExport) async throws -> Int {
        try await db.write { db in
            var added = 0
            for p in e.principals {
                guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM principal WHERE name = ?", arguments: [p.name]) == 0 else { continue }
                try db.execute(
                    sql: "INSERT INTO principal (name, allow_from, created_at) VALUES (?, ?, ?)",
                    arguments: [p.name, p.allowFrom.joined(separator: ","), p.createdAt.timeIntervalSince1970])
                for c in e.credentials where c.info.user == p.name {
                    let i = c.info
                    try db.execute(
                        sql: """
                            INSERT INTO credential (principal, name, secret_hash, created_at, expires_at, last_used_at, retires_at, revoked_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            i.user, i.name, Data(c.hash), i.createdAt.timeIntervalSince1970, i.expiresAt?.timeIntervalSince1970,
                            i.lastUsedAt?.timeIntervalSince1970, i.retiresAt?.timeIntervalSince1970, i.revokedAt?.timeIntervalSince1970,
                        ])
                    added += 1
                }
            }
            return added
        }
    }
}
