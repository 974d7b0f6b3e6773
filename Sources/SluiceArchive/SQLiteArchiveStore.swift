// SQLiteArchiveStore: archives in one SQLite file (GRDB, WAL) in the data dir:
// a row of metadata per message, the message deflate-compressed (zlib), and an
// FTS5 index over sender, recipients, subject, body text and attachment names.
// Writers batch entries into one transaction; readers never block them (WAL).
// Its calls block: EmbeddedArchiveStore runs them on the database pool behind
// the async ArchiveStore contract.

import Foundation
import GRDB

public final class SQLiteArchiveStore: Sendable {
    let db: DatabasePool
    /// When set, message bytes are sealed with its newest key (and opened with any of its keys).
    let keys: ArchiveKeyRing?

    public init(path: String, keys: ArchiveKeyRing? = nil) throws {
        self.keys = keys
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        db = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(db)
        chmod(path, 0o600)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE message (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        archive TEXT NOT NULL, queue_id TEXT NOT NULL, received_at REAL NOT NULL,
                        sender TEXT NOT NULL, recipients TEXT NOT NULL, from_header TEXT NOT NULL, to_header TEXT NOT NULL,
                        cc_header TEXT NOT NULL, subject TEXT NOT NULL, message_id TEXT NOT NULL, size INTEGER NOT NULL,
                        attachments TEXT NOT NULL, dlp TEXT NOT NULL, auth TEXT NOT NULL,
                        stored_size INTEGER NOT NULL, body BLOB NOT NULL,
                        UNIQUE (archive, queue_id));
                    CREATE INDEX message_time ON message (archive, received_at);
                    CREATE VIRTUAL TABLE message_text USING fts5 (sender, recipients, subject, body, attachments, tokenize = 'unicode61 remove_diacritics 2');
                    """)
        }
        m.registerMigration("v2: time index for date ranges across archives") { db in
            try db.execute(sql: "CREATE INDEX message_received ON message (received_at)")
        }
        m.registerMigration("v3: who submitted it and the verdicts, each an indexed filter") { db in
            for column in ["client_ip", "listener", "user_name", "tls", "dlp_profiles", "dmarc"] {
                try db.execute(sql: "ALTER TABLE message ADD COLUMN \(column) TEXT NOT NULL DEFAULT ''")
            }
            for column in ["client_ip", "listener", "user_name", "dmarc"] {
                try db.execute(sql: "CREATE INDEX message_\(column) ON message (\(column), id)")
            }
            // A profile per row, so that `--dlp PROFILE` is an index lookup.
            try db.execute(
                sql: """
                    CREATE TABLE message_dlp (message_id INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE, profile TEXT NOT NULL);
                    CREATE INDEX message_dlp_profile ON message_dlp (profile, message_id);
                    """)
        }
        m.registerMigration("v4: legal hold") { db in
            try db.execute(sql: "ALTER TABLE message ADD COLUMN held INTEGER NOT NULL DEFAULT 0")
            try db.execute(sql: "CREATE INDEX message_held ON message (held) WHERE held = 1")
        }
        m.registerMigration("v5: addresses indexed for --from and --to") { db in
            // A key per address and per domain of it, on each side ("s=" / "s@": envelope sender and From:;
            // "r=" / "r@": envelope recipients, To:, Cc:), with the message: a filter is one key, its matches
            // in message order, so a search walks the newest ones and stops.
            // In v6's shape, with the time received (an archive that ran v5 before v6 existed is rebuilt by v6).
            try db.execute(
                sql: """
                    CREATE TABLE message_key (key TEXT NOT NULL, received_at REAL NOT NULL, message_id INTEGER NOT NULL,
                        PRIMARY KEY (key, received_at, message_id)) WITHOUT ROWID
                    """)
            try db.execute(sql: "CREATE INDEX message_key_message ON message_key (message_id)")
            // The messages archived before: their keys from the stored fields, once, at the upgrade.
            let rows = try Row.fetchCursor(db, sql: "SELECT id, received_at, sender, from_header, recipients, to_header, cc_header FROM message")
            var pending: [(Int64, Double, [String], [String])] = []
            while let r = try rows.next() {
                pending.append((r[0], r[1], [r[2], r[3]], [r[4], r[5], r[6]]))
            }
            for (id, time, senders, recipients) in pending {
                try insertAddresses(id, receivedAt: time, senders: senders, recipients: recipients, in: db)
            }
        }
        m.registerMigration("v6: address keys and DLP profiles indexed by time received") { db in
            // A date range with --from, --to or --dlp is then a range of one index, walked newest first.
            if try !db.columns(in: "message_key").contains(where: { $0.name == "received_at" }) {
                try db.execute(
                    sql: """
                        CREATE TABLE message_key_v6 (key TEXT NOT NULL, received_at REAL NOT NULL, message_id INTEGER NOT NULL,
                            PRIMARY KEY (key, received_at, message_id)) WITHOUT ROWID;
                        INSERT INTO message_key_v6 SELECT k.key, m.received_at, k.message_id FROM message_key k JOIN message m ON m.id = k.message_id;
                        DROP TABLE message_key;
                        ALTER TABLE message_key_v6 RENAME TO message_key;
                        CREATE INDEX message_key_message ON message_key (message_id);
                        """)
            }
            try db.execute(
                sql: """
                    ALTER TABLE message_dlp ADD COLUMN received_at REAL NOT NULL DEFAULT 0;
                    UPDATE message_dlp SET received_at = (SELECT received_at FROM message WHERE id = message_dlp.message_id);
                    DROP INDEX message_dlp_profile;
                    CREATE INDEX message_dlp_profile ON message_dlp (profile, received_at, message_id);
                    CREATE INDEX message_dlp_message ON message_dlp (message_id);
                    """)
        }
        return m
    }

    public func add(_ entries: [ArchiveEntry]) throws {
        let rows = try entries.map { e in (e, try ArchiveBody.pack(e.raw, keys: keys)) }
        try db.write { db in
            // Statements prepared once per transaction, not per row.
            let insertMessage = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO message (archive, queue_id, received_at, sender, recipients, from_header, to_header, cc_header,
                            subject, message_id, size, attachments, dlp, auth, stored_size, body, client_ip, listener, user_name, tls,
                            dlp_profiles, dmarc, held)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let insertProfile = try db.cachedStatement(sql: "INSERT INTO message_dlp (message_id, profile, received_at) VALUES (?, ?, ?)")
            let insertText = try db.cachedStatement(
                sql: "INSERT INTO message_text (rowid, sender, recipients, subject, body, attachments) VALUES (?, ?, ?, ?, ?, ?)")
            for (e, packed) in rows {
                try insertMessage.execute(
                    arguments: [
                        e.archive, e.queueID, e.receivedAt.timeIntervalSince1970, e.sender, e.recipients.joined(separator: ", "), e.from, e.to,
                        e.cc, e.subject, e.messageID, e.raw.count, e.attachments.joined(separator: "\n"), e.dlpSummary, e.authSummary,
                        packed.count, Data(packed), e.submission.clientIP, e.submission.listener, e.submission.user, e.submission.tls,
                        e.submission.dlpProfiles.joined(separator: ","), e.submission.dmarc, e.held,
                    ])
                guard db.changesCount > 0 else { continue }  // archived before (a retried delivery)
                let rowID = db.lastInsertedRowID
                let time = e.receivedAt.timeIntervalSince1970
                try Self.insertAddresses(rowID, receivedAt: time, senders: [e.sender, e.from], recipients: e.recipients + [e.to, e.cc], in: db)
                for profile in e.submission.dlpProfiles {
                    try insertProfile.execute(arguments: [rowID, profile, time])
                }
                try insertText.execute(
                    arguments: [
                        rowID, "\(e.sender) \(e.from)", "\(e.recipients.joined(separator: " ")) \(e.to) \(e.cc)", e.subject,
                        e.bodyText, e.attachments.joined(separator: " "),
                    ])
            }
        }
    }

    static let columns =
        "m.id, m.archive, m.queue_id, m.received_at, m.sender, m.recipients, m.from_header, m.subject, m.message_id, m.size, m.attachments, m.dlp, m.auth, "
        + "m.client_ip, m.listener, m.user_name, m.tls, m.dlp_profiles, m.dmarc, m.held"

    static func row(_ r: Row) -> ArchivedMessage {
        var m = ArchivedMessage(
            id: r[0], archive: r[1], queueID: r[2], receivedAt: Date(timeIntervalSince1970: r[3]), sender: r[4],
            recipients: (r[5] as String).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, from: r[6], subject: r[7],
            messageID: r[8], size: r[9], attachments: (r[10] as String).split(separator: "\n").map(String.init), dlpSummary: r[11],
            authSummary: r[12])
        m.submission.clientIP = r[13]
        m.submission.listener = r[14]
        m.submission.user = r[15]
        m.submission.tls = r[16]
        m.submission.dlpProfiles = (r[17] as String).split(separator: ",").map(String.init)
        m.submission.dmarc = r[18]
        m.held = r[19]
        return m
    }

    /// The FROM, WHERE and ORDER BY columns of a query, with its arguments. The table that drives the
    /// search walks its matches newest first so that LIMIT stops early: the text index (by archive id) when
    /// there is text, else the first address filter's key or the DLP profile (by time received, then id:
    /// their indexes hold the time, so a date range is a range of the index), else the message table (by
    /// time for a date range alone, by id otherwise: its filter columns are indexed with id).
    static func clauses(_ q: ArchiveQuery) throws -> (from: String, filter: String, order: [String], arguments: [any DatabaseValueConvertible]) {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        let keyed = [(q.from, "s"), (q.to, "r")].compactMap { text, role -> (String, String)? in
            guard let text, !text.isEmpty else { return nil }
            return (text, role)
        }
        var from = "message m"
        var order = ["m.id"]
        var time = "m.received_at"
        var driverKey: String?
        if let text = q.text, !text.isEmpty {
            from = "message_text t JOIN message m ON m.id = t.rowid"
            order = ["t.rowid"]
            clauses.append("message_text MATCH ?")
            args.append(try ArchiveTextQuery.parse(text).fts5)
        } else if let key = keyed.lazy.compactMap({ ArchiveAddressFilter($0.0).key(role: $0.1) }).first {
            driverKey = key
            from = "message_key k JOIN message m ON m.id = k.message_id"
            (order, time) = (["k.received_at", "k.message_id"], "k.received_at")
            clauses.append("k.key = ?")
            args.append(key)
        } else if let profile = q.dlpProfile {
            from = "message_dlp d JOIN message m ON m.id = d.message_id"
            (order, time) = (["d.received_at", "d.message_id"], "d.received_at")
            clauses.append("d.profile = ?")
            args.append(profile)
        } else if q.since != nil || q.until != nil, [q.clientIP, q.listener, q.user, q.dmarc].allSatisfy({ $0 == nil }) {
            order = ["m.received_at", "m.id"]  // the time index, walked newest first
        }
        for (text, role) in keyed {
            let filter = ArchiveAddressFilter(text)
            if let key = filter.key(role: role) {
                if key == driverKey {
                    driverKey = nil  // the driving filter, already a clause
                    continue
                }
                clauses.append("EXISTS (SELECT 1 FROM message_key WHERE key = ? AND received_at = m.received_at AND message_id = m.id)")
                args.append(key)
            } else if case .prefix(let p) = filter {
                clauses.append("m.id IN (SELECT message_id FROM message_key WHERE key >= ? AND key < ?)")
                args += ["\(role)=\(p)", "\(role)=\(p)\u{10FFFF}"]
            }
        }
        if let a = q.archive { clauses.append("m.archive = ?"); args.append(a) }
        if let s = q.subject { clauses.append("m.subject LIKE ?"); args.append("%\(s)%") }
        if let s = q.since { clauses.append("\(time) >= ?"); args.append(s.timeIntervalSince1970) }
        if let u = q.until { clauses.append("\(time) < ?"); args.append(u.timeIntervalSince1970) }
        if let h = q.hasAttachment { clauses.append(h ? "m.attachments != ''" : "m.attachments = ''") }
        if let b = q.before {
            if order.count == 2 {
                clauses.append("(\(order[0]), \(order[1])) < (?, ?)")
                args += [b.receivedAt.timeIntervalSince1970, b.id]
            } else {
                clauses.append("\(order[0]) < ?")
                args.append(b.id)
            }
        }
        if let v = q.clientIP { clauses.append("m.client_ip = ?"); args.append(v) }
        if let v = q.listener { clauses.append("m.listener = ?"); args.append(v) }
        if let v = q.user { clauses.append("m.user_name = ?"); args.append(v) }
        if let v = q.dmarc { clauses.append("m.dmarc = ?"); args.append(v.lowercased()) }
        if let h = q.held { clauses.append(h ? "m.held = 1" : "m.held = 0") }
        if let v = q.dlpProfile, !from.hasPrefix("message_dlp") {
            clauses.append("EXISTS (SELECT 1 FROM message_dlp WHERE profile = ? AND received_at = m.received_at AND message_id = m.id)")
            args.append(v)
        }
        return (from, clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), order, args)
    }

    public func search(_ q: ArchiveQuery) throws -> [ArchivedMessage] {
        try Self.textQuery(q) {
            let (from, filter, order, args) = try Self.clauses(q)
            let sql = "SELECT \(Self.columns) FROM \(from)\(filter)"
                // Newest first in the driving table's own order: FTS5 and the indexes walk their matches so,
                // and LIMIT stops early instead of sorting every match.
                + " ORDER BY \(order.map { $0 + " DESC" }.joined(separator: ", ")) LIMIT \(max(1, q.limit))"
            return try db.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.row) }
        }
    }

    public func count(_ q: ArchiveQuery) throws -> Int {
        try Self.textQuery(q) {
            let (from, filter, _, args) = try Self.clauses(q)
            return try db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(from)\(filter)", arguments: StatementArguments(args)) ?? 0 }
        }
    }

    /// The text query is translated before SQLite sees it; one SQLite still refuses is our defect, said so.
    static func textQuery<T>(_ q: ArchiveQuery, _ run: () throws -> T) throws -> T {
        do {
            return try run()
        } catch let e as ArchiveTextQuery.Invalid {
            throw ArchiveError("text query: \(e.description)")
        } catch let e as DatabaseError where e.resultCode == .SQLITE_ERROR && q.text != nil {
            throw ArchiveError("the text query '\(q.text ?? "")' could not be run (\(e.message ?? "\(e)")); please report it")
        }
    }

    public func message(id: Int64) throws -> ArchivedMessage? {
        try db.read { db in try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM message m WHERE m.id = ?", arguments: [id]).map(Self.row) }
    }

    public func raw(id: Int64) throws -> [UInt8]? {
        guard let row = try db.read({ db in try Row.fetchOne(db, sql: "SELECT body, size FROM message WHERE id = ?", arguments: [id]) }) else {
            return nil
        }
        let packed: Data = row[0]
        return try ArchiveBody.unpack([UInt8](packed), size: row[1], keys: keys)
    }

    /// Seals every message with the newest key (plain ones too), a batch per transaction; returns how
    /// many changed. Afterwards older keys may leave the key file.
    public func rekey(batch: Int = 500) throws -> Int {
        guard let keys else { throw ArchiveError("no archive_encryption key_file is configured") }
        var changed = 0
        var after: Int64 = 0
        while true {
            let rows = try db.read { db in
                try Row.fetchAll(db, sql: "SELECT id, body FROM message WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, batch])
            }
            guard let last = rows.last else { return changed }
            after = last[0]
            var updates: [(Int64, [UInt8])] = []
            for row in rows {
                if let sealed = try ArchiveBody.resealed([UInt8](row[1] as Data), keys: keys) { updates.append((row[0], sealed)) }
            }
            try db.write { db in
                for (id, sealed) in updates {
                    try db.execute(sql: "UPDATE message SET body = ?, stored_size = ? WHERE id = ?", arguments: [Data(sealed), sealed.count, id])
                }
            }
            changed += updates.count
        }
    }

    public func purge(before cutoffs: [String: Date], batch: Int) throws -> Int {
        var removed = 0
        for (archive, cutoff) in cutoffs.sorted(by: { $0.key < $1.key }) where removed < batch {
            removed += try db.write { db -> Int in
                let ids = try Int64.fetchAll(
                    db, sql: "SELECT id FROM message WHERE archive = ? AND received_at < ? AND held = 0 ORDER BY received_at LIMIT ?",
                    arguments: [archive, cutoff.timeIntervalSince1970, batch - removed])
                for id in ids { try Self.remove(id, in: db) }
                return ids.count
            }
        }
        return removed
    }

    public func delete(ids: [Int64]) throws -> Int {
        let chunks = stride(from: 0, to: ids.count, by: 500).map { Array(ids[$0..<min(ids.count, $0 + 500)]) }
        return try db.write { db -> Int in
            // One transaction: either every message goes, or (one is held) none does.
            var held: [Int64] = []
            var existing: [Int64] = []
            for chunk in chunks {
                let marks = chunk.map { _ in "?" }.joined(separator: ",")
                held += try Int64.fetchAll(db, sql: "SELECT id FROM message WHERE held = 1 AND id IN (\(marks))", arguments: StatementArguments(chunk))
                existing += try Int64.fetchAll(db, sql: "SELECT id FROM message WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
            }
            guard held.isEmpty else {
                let list = held.prefix(10).map(String.init).joined(separator: ", ")
                throw ArchiveError(
                    "\(held.count) of these messages are under legal hold (\(list)\(held.count > 10 ? ", ..." : "")): release them first; nothing was deleted")
            }
            for id in existing { try Self.remove(id, in: db) }
            return existing.count
        }
    }

    public func setHold(ids: [Int64], held: Bool) throws -> Int {
        try db.write { db -> Int in
            var changed = 0
            for id in ids {
                try db.execute(sql: "UPDATE message SET held = ? WHERE id = ? AND held != ?", arguments: [held, id, held])
                changed += db.changesCount
            }
            return changed
        }
    }

    /// The address keys of a message's sender side (envelope sender, From:) and recipient side (envelope
    /// recipients, To:, Cc:), each once.
    static func insertAddresses(_ id: Int64, receivedAt: Double, senders: [String], recipients: [String], in db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO message_key (key, received_at, message_id) VALUES (?, ?, ?)")
        for (role, fields) in [("s", senders), ("r", recipients)] {
            var seen: Set<String> = []
            for address in fields.flatMap(ArchiveAddressFilter.addresses(in:)) {
                for key in ArchiveAddressFilter.keys(role: role, address: address) where seen.insert(key).inserted {
                    try insert.execute(arguments: [key, receivedAt, id])
                }
            }
        }
    }

    /// One message out of every table: its DLP rows, its address keys, its index entry, its row and bytes.
    static func remove(_ id: Int64, in db: Database) throws {
        try db.execute(sql: "DELETE FROM message_dlp WHERE message_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM message_key WHERE message_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM message_text WHERE rowid = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [id])
    }

    public func stats() throws -> [ArchiveStats] {
        try db.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT archive, COUNT(*), SUM(size), SUM(stored_size), MIN(received_at), MAX(received_at) FROM message GROUP BY archive ORDER BY archive"
            ).map { r in
                ArchiveStats(
                    archive: r[0], messages: r[1], bytes: r[2] ?? 0, storedBytes: r[3] ?? 0,
                    oldest: (r[4] as Double?).map(Date.init(timeIntervalSince1970:)), newest: (r[5] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }
}

public struct ArchiveError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ d: String) { description = d }
}
