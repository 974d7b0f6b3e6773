// PostgresCredentialStore: CredentialStoring in the shared database. Every
// AUTH reads the database (no cache), so a credential revoked, rotated or
// expired through any node is refused by every node at its next AUTH: the
// bound is zero, at the cost of one round trip per AUTH (which also records
// the use). While the database cannot answer, AUTH fails with 454
// 4.7.0 (a temporary failure the client retries), never a crash.

import Foundation
import PostgresNIO
import SluiceCore
import SluiceCredentials

public final class PostgresCredentialStore: CredentialStoring {
    let db: PostgresDatabase
    let clock: any SluiceClock

    public init(_ db: PostgresDatabase, clock: any SluiceClock) {
        self.db = db
        self.clock = clock
    }

    var now: Double { clock.now().timeIntervalSince1970 }

    public func add(user: String, name: String, allowFrom: [String]?, expiresIn: Double?) async throws -> String {
        try CredentialRules.checkNames(user: user, name: name)
        let secret = Secret.generate()
        let hash = Data(Secret.hash(secret))
        let t = now
        let expires = expiresIn.map { t + $0 }
        try await db.transaction { c in
            try await c.query("SELECT pg_advisory_xact_lock(hashtext(\(user)))", logger: self.db.logger)
            var current: String?
            for try await a in try await c.query("SELECT allow_from FROM principal WHERE name = \(user)", logger: self.db.logger).decode(String.self) {
                current = a
            }
            if let current {
                try CredentialRules.checkAllowFrom(user: user, current: current, requested: allowFrom)
            } else {
                let list = (allowFrom ?? []).joined(separator: ",")
                try await c.query("INSERT INTO principal (name, allow_from, created_at) VALUES (\(user), \(list), \(t))", logger: self.db.logger)
            }
            let live = try await Self.count(
                c,
                "SELECT count(*) FROM credential WHERE principal = \(user) AND name = \(name) AND revoked_at IS NULL AND retires_at IS NULL",
                self.db)
            guard live == 0 else { throw CredentialRules.nameTaken(user: user, name: name) }
            try await c.query(
                "INSERT INTO credential (principal, name, secret_hash, created_at, expires_at) VALUES (\(user), \(name), \(hash), \(t), \(expires))",
                logger: self.db.logger)
        }
        return secret
    }

    static func count(_ c: PostgresConnection, _ q: PostgresQuery, _ db: PostgresDatabase) async throws -> Int {
        var n = 0
        for try await v in try await c.query(q, logger: db.logger).decode(Int.self) { n = v }
        return n
    }

    public func rotate(user: String, name: String, overlap: Double) async throws -> String {
        let secret = Secret.generate()
        let hash = Data(Secret.hash(secret))
        let t = now
        try await db.transaction { c in
            var old: (Int64, Double?, Double)?
            let rows = try await c.query(
                """
                SELECT id, expires_at, created_at FROM credential
                WHERE principal = \(user) AND name = \(name) AND revoked_at IS NULL AND retires_at IS NULL FOR UPDATE
                """, logger: self.db.logger)
            for try await row in rows.decode((Int64, Double?, Double).self) { old = row }
            guard let old else { throw CredentialRules.noLiveCredential(user: user, name: name) }
            let expires = old.1.map { t + ($0 - old.2) }
            try await c.query("UPDATE credential SET retires_at = \(t + overlap) WHERE id = \(old.0)", logger: self.db.logger)
            try await c.query(
                "INSERT INTO credential (principal, name, secret_hash, created_at, expires_at) VALUES (\(user), \(name), \(hash), \(t), \(expires))",
                logger: self.db.logger)
        }
        return secret
    }

    @discardableResult
    public func revoke(user: String, name: String) async throws -> [CredentialInfo] {
        let t = now
        return try await revoked(
            "UPDATE credential SET revoked_at = \(t) WHERE principal = \(user) AND name = \(name) AND revoked_at IS NULL RETURNING id",
            missing: CredentialRules.nothingToRevoke(user: user, name: name))
    }

    @discardableResult
    public func revoke(user: String, id: Int64) async throws -> [CredentialInfo] {
        let t = now
        return try await revoked(
            "UPDATE credential SET revoked_at = \(t) WHERE principal = \(user) AND id = \(id) AND revoked_at IS NULL RETURNING id",
            missing: CredentialRules.nothingToRevoke(user: user, id: id))
    }

    private func revoked(_ update: PostgresQuery, missing: CredentialError) async throws -> [CredentialInfo] {
        let ids = try await db.run { client in
            var ids: Set<Int64> = []
            for try await id in try await client.query(update, logger: self.db.logger).decode(Int64.self) { ids.insert(id) }
            return ids
        }
        guard !ids.isEmpty else { throw missing }
        return try await list().filter { ids.contains($0.id) }
    }

    @discardableResult
    public func allow(user: String, add: [String], remove: [String]) async throws -> [String] {
        try await db.transaction { c in
            var current: String?
            let rows = try await c.query("SELECT allow_from FROM principal WHERE name = \(user) FOR UPDATE", logger: self.db.logger)
            for try await a in rows.decode(String.self) { current = a }
            guard let current else { throw CredentialRules.noUser(user) }
            let list = try CredentialRules.changed(CredentialRules.splitList(current), user: user, add: add, remove: remove)
            let text = list.joined(separator: ",")
            try await c.query("UPDATE principal SET allow_from = \(text) WHERE name = \(user)", logger: self.db.logger)
            return list
        }
    }

    public func list() async throws -> [CredentialInfo] {
        try await db.run { client in
            let rows = try await client.query(
                """
                SELECT c.id, c.principal, c.name, c.created_at, c.expires_at, c.last_used_at, c.retires_at, c.revoked_at, p.allow_from
                FROM credential c JOIN principal p ON p.name = c.principal ORDER BY c.principal, c.name, c.created_at, c.id
                """, logger: self.db.logger)
            var out: [CredentialInfo] = []
            for try await (id, user, name, created, expires, used, retires, revoked, allow) in rows.decode(
                (Int64, String, String, Double, Double?, Double?, Double?, Double?, String).self)
            {
                out.append(
                    CredentialInfo(
                        id: id, user: user, name: name, createdAt: Date(timeIntervalSince1970: created),
                        expiresAt: expires.map(Date.init(timeIntervalSince1970:)), lastUsedAt: used.map(Date.init(timeIntervalSince1970:)),
                        retiresAt: retires.map(Date.init(timeIntervalSince1970:)), revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
                        allowFrom: CredentialRules.splitList(allow)))
            }
            return out
        }
    }

    /// One round trip: the usable credential whose hash matches is marked used and named. The database compares
    /// SHA-256 hashes of 192-bit random secrets: its comparison's timing tells nothing a guess could use (nobody
    /// chooses the bytes of a hash), unlike comparing secrets themselves.
    public func authenticate(user: String, secret: String) async throws -> String? {
        let hash = Data(Secret.hash(secret))
        let t = now
        return try await db.run { client in
            let rows = try await client.query(
                """
                UPDATE credential SET last_used_at = \(t)
                WHERE id = (SELECT id FROM credential
                            WHERE principal = \(user) AND secret_hash = \(hash) AND revoked_at IS NULL
                              AND (expires_at IS NULL OR expires_at > \(t)) AND (retires_at IS NULL OR retires_at > \(t))
                            LIMIT 1)
                RETURNING name
                """, logger: self.db.logger)
            var name: String?
            for try await n in rows.decode(String.self) { name = n }
            return name
        }
    }

    public func allowedSenders(user: String) async throws -> SenderAllowList {
        try await db.run { client in
            var text = ""
            for try await a in try await client.query("SELECT allow_from FROM principal WHERE name = \(user)", logger: self.db.logger).decode(String.self) {
                text = a
            }
            return SenderAllowList(CredentialRules.splitList(text))
        }
    }
}
