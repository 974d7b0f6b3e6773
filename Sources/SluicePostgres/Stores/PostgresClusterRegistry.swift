// PostgresClusterRegistry: the nodes sharing the database, as each reports
// itself every `refresh` (sluice_node).

import Foundation
import PostgresNIO
import SluicePipeline

public struct PostgresClusterRegistry: ClusterRegistry {
    let db: PostgresDatabase

    public init(_ db: PostgresDatabase) { self.db = db }

    public var heartbeat: Double { db.settings.refresh }

    public func report(_ r: NodeReport) async throws {
        let (started, seen) = (r.startedAt.timeIntervalSince1970, r.lastSeen.timeIntervalSince1970)
        try await db.run { client in
            try await client.query(
                """
                INSERT INTO sluice_node (name, version, config_digest, rules_digest, dkim, queue_depth, started_at, last_seen)
                VALUES (\(r.node), \(r.version), \(r.configDigest), \(r.rulesDigest), \(r.dkim), \(r.queueDepth), \(started), \(seen))
                ON CONFLICT (name) DO UPDATE SET version = excluded.version, config_digest = excluded.config_digest,
                    rules_digest = excluded.rules_digest, dkim = excluded.dkim, queue_depth = excluded.queue_depth,
                    started_at = excluded.started_at, last_seen = excluded.last_seen
                """, logger: self.db.logger)
            return ()
        }
    }

    public func nodes() async throws -> [NodeReport] {
        try await db.run { client in
            var out: [NodeReport] = []
            let rows = try await client.query(
                "SELECT name, version, config_digest, rules_digest, dkim, queue_depth, started_at, last_seen FROM sluice_node ORDER BY name",
                logger: self.db.logger)
            for try await (name, version, config, rules, dkim, depth, started, seen) in rows.decode(
                (String, String, String, String, [String], Int, Double, Double).self)
            {
                out.append(
                    NodeReport(
                        node: name, version: version, configDigest: config, rulesDigest: rules, dkim: dkim, queueDepth: depth,
                        startedAt: Date(timeIntervalSince1970: started), lastSeen: Date(timeIntervalSince1970: seen)))
            }
            return out
        }
    }
}
