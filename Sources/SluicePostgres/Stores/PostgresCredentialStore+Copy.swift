// Copying credentials into (and out of) the shared store: `sluice storage
// copy` moves a node's SQLite credentials here, hashes and all, so that
// every device keeps its secret.

import Foundation
import PostgresNIO
import SluiceCredentials

extension PostgresCredentialStore: CredentialCopying {
    public func exportAll() async throws -> CredentialExport {
        let (principals, hashes) = try await db.run { client in
            var principals: [CredentialExport.Principal] = []
            for try await (name, allow, created) in try await client.query(
                "SELECT name, allow_from, created_at FROM principal ORDER BY name", logger: self.db.logger
            ).decode((String, String, Double).self) {
                principals.append(.init(name: name, allowFrom: CredentialRules.splitList(allow), createdAt: Date(timeIntervalSince1970: created)))
            }
            var hashes: [Int64: [UInt8]] = [:]
            for try await (id, hash) in try await client.query("SELECT id, secret_hash FROM credential", logger: self.db.logger).decode(
                (Int64, Data).self)
            {
                hashes[id] = Array(hash)
            }
            return (principals, hashes)
        }
        return CredentialExport(principals: principals, credentials: try await list().map { .init(info: $0, hash: hashes[$0.id] ?? []) })
    }

    public func importAll(_ e: CredentialExport) async throws -> Int {
        try await db.transaction { c in
            var added = 0
            for p in e.principals {
                let allow = p.allowFrom.joined(separator: ",")
                var inserted = 0
                for try await _ in try await c.query(
                    """
                    INSERT INTO principal (name, allow_from, created_at) VALUES (\(p.name), \(allow), \(p.createdAt.timeIntervalSince1970))
                    ON CONFLICT (name) DO NOTHING RETURNING 1
                    """, logger: self.db.logger
                ).decode(Int.self) {
                    inserted += 1
                }
                guard inserted > 0 else { continue }  // a user the store has already is kept as it is
                for cred in e.credentials where cred.info.user == p.name {
                    let i = cred.info
                    try await c.query(
                        """
                        INSERT INTO credential (principal, name, secret_hash, created_at, expires_at, last_used_at, retires_at, revoked_at)
                        VALUES (\(i.user), \(i.name), \(Data(cred.hash)), \(i.createdAt.timeIntervalSince1970), \(i.expiresAt?.timeIntervalSince1970),
                            \(i.lastUsedAt?.timeIntervalSince1970), \(i.retiresAt?.timeIntervalSince1970), \(i.revokedAt?.timeIntervalSince1970))
                        """, logger: self.db.logger)
                    added += 1
                }
            }
            return added
        }
    }
}
