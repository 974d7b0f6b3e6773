// SQLiteQuarantineIndex: the embedded quarantine index, one SQLite file
// (GRDB, WAL) in the data directory: a row per held message, indexed by node
// and time, with the rules that held it.

import Foundation
import GRDB
import SluiceCore

public final class SQLiteQuarantineIndex: QuarantineIndex {
    let db: DatabasePool

    public init(path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(5)
        db = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(db)
        chmod(path, 0o600)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE held (
                        queue_id TEXT PRIMARY KEY, node TEXT NOT NULL, queued_at REAL NOT NULL, sender TEXT NOT NULL,
                        subject TEXT NOT NULL, size INTEGER NOT NULL, recipients TEXT NOT NULL, reasons TEXT NOT NULL, verdicts TEXT NOT NULL);
                    CREATE INDEX held_node ON held (node, queued_at);
                    CREATE INDEX held_time ON held (queued_at);
                    CREATE TABLE held_rule (queue_id TEXT NOT NULL REFERENCES held(queue_id) ON DELETE CASCADE, rule TEXT NOT NULL);
                    CREATE INDEX held_rule_rule ON held_rule (rule, queue_id);
                    """)
        }
        return m
    }

    static func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try StoredJSON.encoder().encode(value), as: UTF8.self) }
    static func decode<T: Decodable>(_ text: String, as type: T.Type) throws -> T { try StoredJSON.decoder().decode(T.self, from: Data(text.utf8)) }

    /// The rule's name in a reason ("rule hold-cards (when ...)").
    static func ruleName(_ reason: String) -> String? {
        guard reason.hasPrefix("rule ") else { return nil }
        return reason.dropFirst(5).split(separator: " ").first.map(String.init)
    }

    public func record(_ r: QuarantineRecord) async throws {
        let (recipients, reasons, verdicts) = (try Self.json(r.recipients), try Self.json(r.reasons), try Self.json(r.verdicts))
        try await db.write { db in
            try db.execute(sql: "DELETE FROM held WHERE queue_id = ?", arguments: [r.queueID.rawValue])
            try db.execute(
                sql: """
                    INSERT INTO held (queue_id, node, queued_at, sender, subject, size, recipients, reasons, verdicts)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    r.queueID.rawValue, r.node, r.queuedAt.timeIntervalSince1970, r.sender, r.subject, r.size, recipients, reasons, verdicts,
                ])
            for rule in Set(r.reasons.compactMap(Self.ruleName)) {
                try db.execute(sql: "INSERT INTO held_rule (queue_id, rule) VALUES (?, ?)", arguments: [r.queueID.rawValue, rule])
            }
        }
    }

    public func remove(_ id: QueueID) async throws {
        try await db.write { db in
            try db.execute(sql: "DELETE FROM held_rule WHERE queue_id = ?", arguments: [id.rawValue])
            try db.execute(sql: "DELETE FROM held WHERE queue_id = ?", arguments: [id.rawValue])
        }
    }

    public func list(_ q: QuarantineQuery) async throws -> [QuarantineRecord] {
        var clauses: [String] = []
        var arguments: [DatabaseValue] = []  // Sendable, for the async read
        if let rule = q.rule {
            clauses.append("queue_id IN (SELECT queue_id FROM held_rule WHERE rule = ?)")
            arguments.append(rule.databaseValue)
        }
        if let from = q.from {
            clauses.append("instr(lower(sender), ?) > 0")
            arguments.append(from.lowercased().databaseValue)
        }
        if let before = q.queuedBefore {
            clauses.append("queued_at < ?")
            arguments.append(before.timeIntervalSince1970.databaseValue)
        }
        if let node = q.node {
            clauses.append("node = ?")
            arguments.append(node.databaseValue)
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM held \(filter) ORDER BY queued_at, queue_id LIMIT \(max(1, q.limit))"
        // Rows are not Sendable: they become records inside the read.
        return try await db.read { [arguments] db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.record) }
    }

    public func record(for id: QueueID) async throws -> QuarantineRecord? {
        try await db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM held WHERE queue_id = ?", arguments: [id.rawValue]).map(Self.record) }
    }

    public func ids(node: String) async throws -> [QueueID] {
        try await db.read { db in try String.fetchAll(db, sql: "SELECT queue_id FROM held WHERE node = ?", arguments: [node]) }
            .compactMap(QueueID.init)
    }

    static func record(_ row: Row) throws -> QuarantineRecord {
        guard let id = QueueID(row["queue_id"] as String) else { throw QuarantineIndexError("a bad queue id in the index: \(row["queue_id"] as String)") }
        return QuarantineRecord(
            queueID: id, node: row["node"], queuedAt: Date(timeIntervalSince1970: row["queued_at"]), sender: row["sender"],
            subject: row["subject"], size: row["size"], recipients: try decode(row["recipients"], as: [String].self),
            reasons: try decode(row["reasons"], as: [String].self), verdicts: try decode(row["verdicts"], as: [String: String].self))
    }
}

public struct QuarantineIndexError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
