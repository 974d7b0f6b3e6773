// PostgresQuarantineIndex: QuarantineIndex in the shared database, so that
// every node lists what every node holds (the bytes stay in the owning
// node's queue; `node` says which).

import Foundation
import PostgresNIO
import SluiceCore
import SluiceQuarantine

public final class PostgresQuarantineIndex: QuarantineIndex {
    let db: PostgresDatabase

    public init(_ db: PostgresDatabase) { self.db = db }

    public func record(_ r: QuarantineRecord) async throws {
        let verdicts = String(decoding: try JSONEncoder().encode(r.verdicts), as: UTF8.self)
        let id = r.queueID.rawValue
        let at = r.queuedAt.timeIntervalSince1970
        try await db.run { client in
            try await client.query(
                """
                INSERT INTO quarantine (queue_id, node, queued_at, sender, subject, size, recipients, reasons, verdicts)
                VALUES (\(id), \(r.node), \(at), \(r.sender), \(r.subject), \(r.size), \(r.recipients), \(r.reasons), \(verdicts)::jsonb)
                ON CONFLICT (queue_id) DO UPDATE SET node = excluded.node, queued_at = excluded.queued_at, sender = excluded.sender,
                    subject = excluded.subject, size = excluded.size, recipients = excluded.recipients, reasons = excluded.reasons,
                    verdicts = excluded.verdicts
                """, logger: self.db.logger)
            return ()
        }
    }

    public func remove(_ id: QueueID) async throws {
        let raw = id.rawValue
        try await db.run { client in
            try await client.query("DELETE FROM quarantine WHERE queue_id = \(raw)", logger: self.db.logger)
            return ()
        }
    }

    public func list(_ q: QuarantineQuery) async throws -> [QuarantineRecord] {
        var sql = "SELECT queue_id, node, queued_at, sender, subject, size, recipients, reasons, verdicts::text FROM quarantine WHERE true"
        var binds = PostgresBindings()
        if let rule = q.rule {
            // The rule's name is a reason's first word after "rule " ("rule hold-cards (when ...)").
            binds.append(rule)
            sql += " AND EXISTS (SELECT 1 FROM unnest(reasons) AS r WHERE r LIKE 'rule %' AND split_part(substr(r, 6), ' ', 1) = $\(binds.count))"
        }
        if let from = q.from {
            binds.append(from.lowercased())
            sql += " AND strpos(lower(sender), $\(binds.count)) > 0"
        }
        if let before = q.queuedBefore {
            binds.append(before.timeIntervalSince1970)
            sql += " AND queued_at < $\(binds.count)"
        }
        if let node = q.node {
            binds.append(node)
            sql += " AND node = $\(binds.count)"
        }
        binds.append(max(1, q.limit))
        sql += " ORDER BY queued_at, queue_id LIMIT $\(binds.count)"
        let query = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await db.run { client in try await Self.records(try await client.query(query, logger: self.db.logger)) }
    }

    static func records(_ rows: PostgresRowSequence) async throws -> [QuarantineRecord] {
        var out: [QuarantineRecord] = []
        for try await (id, node, at, sender, subject, size, recipients, reasons, verdicts) in rows.decode(
            (String, String, Double, String, String, Int, [String], [String], String).self)
        {
            guard let queueID = QueueID(id) else { continue }
            out.append(
                QuarantineRecord(
                    queueID: queueID, node: node, queuedAt: Date(timeIntervalSince1970: at), sender: sender, subject: subject, size: size,
                    recipients: recipients, reasons: reasons,
                    // Written by record() from a [String: String]; a row that does not read shows no verdicts, the rest of it stands.
                    verdicts: (try? JSONDecoder().decode([String: String].self, from: Data(verdicts.utf8))) ?? [:]))
        }
        return out
    }

    public func record(for id: QueueID) async throws -> QuarantineRecord? {
        let raw = id.rawValue
        return try await db.run { client in
            try await Self.records(
                try await client.query(
                    "SELECT queue_id, node, queued_at, sender, subject, size, recipients, reasons, verdicts::text FROM quarantine WHERE queue_id = \(raw)",
                    logger: self.db.logger)
            ).first
        }
    }

    public func request(_ r: QuarantineRequest, node: String) async throws {
        let (id, action, t) = (r.queueID.rawValue, r.action.rawValue, db.clock.now().timeIntervalSince1970)
        try await db.run { client in
            try await client.query(
                """
                INSERT INTO quarantine_request (node, queue_id, action, only_recipient, requested_by, requested_at)
                VALUES (\(node), \(id), \(action), \(r.only), \(r.by), \(t))
                """, logger: self.db.logger)
            return ()
        }
    }

    public func takeRequests(node: String) async throws -> [QuarantineRequest] {
        try await db.run { client in
            var taken: [(Int64, QuarantineRequest)] = []
            let rows = try await client.query(
                """
                DELETE FROM quarantine_request WHERE id IN (
                    SELECT id FROM quarantine_request WHERE node = \(node) ORDER BY id FOR UPDATE SKIP LOCKED)
                RETURNING id, queue_id, action, only_recipient, requested_by
                """, logger: self.db.logger)
            for try await (n, id, action, only, by) in rows.decode((Int64, String, String, String?, String).self) {
                guard let q = QueueID(id), let a = QuarantineRequest.Action(rawValue: action) else { continue }
                taken.append((n, QuarantineRequest(queueID: q, action: a, only: only, by: by)))
            }
            return taken.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    public func ids(node: String) async throws -> [QueueID] {
        try await db.run { client in
            var out: [QueueID] = []
            let rows = try await client.query("SELECT queue_id FROM quarantine WHERE node = \(node) ORDER BY queue_id", logger: self.db.logger)
            for try await id in rows.decode(String.self) { if let q = QueueID(id) { out.append(q) } }
            return out
        }
    }
}
