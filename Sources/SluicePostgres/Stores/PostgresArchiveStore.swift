// PostgresArchiveStore: ArchiveStore in the shared database, so that every
// node searches one archive: a row per message (the bytes deflated and
// sealed as on SQLite, ArchiveBody), a tsvector of its words under a GIN
// index for the text query language (ArchiveWords), and the address and DLP
// keys of schema v6 (by time received) for --from, --to and --dlp. Search
// order is the embedded store's: the driving filter decides it (text: the
// archive's order; an address, a profile or a date range alone: time
// received), newest first, paged with the last message's cursor.

import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import SluiceArchive

public final class PostgresArchiveStore: ArchiveStore {
    let db: PostgresDatabase
    let keyFile: String?
    private let ring = NIOLockedValueBox<ArchiveKeyRing??>(nil)

    /// `keyFile`: archive_encryption's key file, read at the first use (nil: messages stored unsealed).
    public init(_ db: PostgresDatabase, keyFile: String?) {
        self.db = db
        self.keyFile = keyFile
    }

    func keys() throws -> ArchiveKeyRing? {
        try ring.withLockedValue { ring in
            if let loaded = ring { return loaded }
            let loaded = try keyFile.map { try ArchiveKeyRing.load(file: $0) }
            ring = .some(loaded)
            return loaded
        }
    }

    public func add(_ entries: [ArchiveEntry]) async throws {
        let keys = try keys()
        let rows = try entries.map { e in (e, try ArchiveBody.pack(e.raw, keys: keys)) }
        try await db.transaction { c in
            for (e, body) in rows {
                let time = e.receivedAt.timeIntervalSince1970
                let words = ArchiveWords.document([
                    "\(e.sender) \(e.from)", "\(e.recipients.joined(separator: " ")) \(e.to) \(e.cc)", e.subject, e.bodyText,
                    e.attachments.joined(separator: " "),
                ])
                let (recipients, attachments, profiles) = (
                    e.recipients.joined(separator: ", "), e.attachments.joined(separator: "\n"), e.submission.dlpProfiles.joined(separator: ",")
                )
                let s = e.submission
                var id: Int64?
                let inserted = try await c.query(
                    """
                    INSERT INTO archive_message (archive, queue_id, received_at, sender, recipients, from_header, to_header, cc_header,
                        subject, message_id, size, attachments, dlp, auth, stored_size, body, client_ip, listener, user_name, tls,
                        dlp_profiles, dmarc, words, held)
                    VALUES (\(e.archive), \(e.queueID), \(time), \(e.sender), \(recipients), \(e.from), \(e.to), \(e.cc), \(e.subject),
                        \(e.messageID), \(e.raw.count), \(attachments), \(e.dlpSummary), \(e.authSummary), \(body.count), \(Data(body)),
                        \(s.clientIP), \(s.listener), \(s.user), \(s.tls), \(profiles), \(s.dmarc), \(words)::tsvector, \(e.held))
                    ON CONFLICT (archive, queue_id) DO NOTHING RETURNING id
                    """, logger: self.db.logger)
                for try await v in inserted.decode(Int64.self) { id = v }
                guard let id else { continue }  // archived before (a retried delivery)
                let keys = Self.addressKeys(senders: [e.sender, e.from], recipients: e.recipients + [e.to, e.cc])
                if !keys.isEmpty {
                    try await c.query(
                        "INSERT INTO archive_key (key, received_at, message_id) SELECT k, \(time), \(id) FROM unnest(\(keys)::text[]) AS k ON CONFLICT DO NOTHING",
                        logger: self.db.logger)
                }
                if !s.dlpProfiles.isEmpty {
                    try await c.query(
                        "INSERT INTO archive_dlp (message_id, profile, received_at) SELECT \(id), p, \(time) FROM unnest(\(s.dlpProfiles)::text[]) AS p",
                        logger: self.db.logger)
                }
            }
            return ()
        }
    }

    /// The address keys of a message's sender and recipient sides, each once (as the embedded store keeps them).
    static func addressKeys(senders: [String], recipients: [String]) -> [String] {
        var out: [String] = []
        for (role, fields) in [("s", senders), ("r", recipients)] {
            var seen: Set<String> = []
            for address in fields.flatMap(ArchiveAddressFilter.addresses(in:)) {
                for key in ArchiveAddressFilter.keys(role: role, address: address) where seen.insert(key).inserted { out.append(key) }
            }
        }
        return out
    }

    static let columns =
        "m.id, m.archive, m.queue_id, m.received_at, m.sender, m.recipients, m.from_header, m.subject, m.message_id, m.size, m.attachments, m.dlp, "
        + "m.auth, m.client_ip, m.listener, m.user_name, m.tls, m.dlp_profiles, m.dmarc, m.held"

    public func search(_ q: ArchiveQuery) async throws -> [ArchivedMessage] {
        var s = try ArchiveSQL(q)
        s.binds.append(max(1, q.limit))
        let sql = "SELECT \(Self.columns) FROM \(s.from)\(s.filter) ORDER BY \(s.order.map { $0 + " DESC" }.joined(separator: ", ")) LIMIT $\(s.binds.count)"
        let query = PostgresQuery(unsafeSQL: sql, binds: s.binds)
        return try await db.run { client in try await Self.messages(try await client.query(query, logger: self.db.logger)) }
    }

    public func count(_ q: ArchiveQuery) async throws -> Int {
        let s = try ArchiveSQL(q)
        let query = PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(s.from)\(s.filter)", binds: s.binds)
        return try await db.run { client in
            var n = 0
            for try await c in try await client.query(query, logger: self.db.logger).decode(Int.self) { n = c }
            return n
        }
    }

    static func messages(_ rows: PostgresRowSequence) async throws -> [ArchivedMessage] {
        var out: [ArchivedMessage] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            var m = ArchivedMessage(
                id: try r[0].decode(Int64.self), archive: try r[1].decode(String.self), queueID: try r[2].decode(String.self),
                receivedAt: Date(timeIntervalSince1970: try r[3].decode(Double.self)), sender: try r[4].decode(String.self),
                recipients: try r[5].decode(String.self).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                from: try r[6].decode(String.self), subject: try r[7].decode(String.self), messageID: try r[8].decode(String.self),
                size: try r[9].decode(Int.self), attachments: try r[10].decode(String.self).split(separator: "\n").map(String.init),
                dlpSummary: try r[11].decode(String.self), authSummary: try r[12].decode(String.self))
            m.submission.clientIP = try r[13].decode(String.self)
            m.submission.listener = try r[14].decode(String.self)
            m.submission.user = try r[15].decode(String.self)
            m.submission.tls = try r[16].decode(String.self)
            m.submission.dlpProfiles = try r[17].decode(String.self).split(separator: ",").map(String.init)
            m.submission.dmarc = try r[18].decode(String.self)
            m.held = try r[19].decode(Bool.self)
            out.append(m)
        }
        return out
    }

    public func message(id: Int64) async throws -> ArchivedMessage? {
        try await db.run { client in
            try await Self.messages(try await client.query("SELECT \(unescaped: Self.columns) FROM archive_message m WHERE m.id = \(id)", logger: self.db.logger))
                .first
        }
    }

    public func raw(id: Int64) async throws -> [UInt8]? {
        let keys = try keys()
        let stored: (Data, Int)? = try await db.run { client in
            var found: (Data, Int)?
            for try await row in try await client.query("SELECT body, size FROM archive_message WHERE id = \(id)", logger: self.db.logger).decode(
                (Data, Int).self)
            {
                found = row
            }
            return found
        }
        guard let (body, size) = stored else { return nil }
        return try ArchiveBody.unpack([UInt8](body), size: size, keys: keys)
    }

    public func purge(before cutoffs: [String: Date], batch: Int) async throws -> Int {
        var removed = 0
        for (archive, cutoff) in cutoffs.sorted(by: { $0.key < $1.key }) where removed < batch {
            let (t, limit) = (cutoff.timeIntervalSince1970, batch - removed)
            removed += try await db.run { client in
                var n = 0
                let rows = try await client.query(
                    """
                    DELETE FROM archive_message WHERE id IN (
                        SELECT id FROM archive_message WHERE archive = \(archive) AND received_at < \(t) AND NOT held ORDER BY received_at LIMIT \(limit))
                    RETURNING id
                    """, logger: self.db.logger)
                for try await _ in rows.decode(Int64.self) { n += 1 }
                return n
            }
        }
        return removed
    }

    public func delete(ids: [Int64]) async throws -> Int {
        try await db.transaction { c in
            // One transaction: either every message goes, or (one is held) none does.
            var held: [Int64] = []
            for try await id in try await c.query(
                "SELECT id FROM archive_message WHERE held AND id = ANY(\(ids)) ORDER BY id FOR UPDATE", logger: self.db.logger
            ).decode(Int64.self) {
                held.append(id)
            }
            guard held.isEmpty else {
                let list = held.prefix(10).map(String.init).joined(separator: ", ")
                throw ArchiveError(
                    "\(held.count) of these messages are under legal hold (\(list)\(held.count > 10 ? ", ..." : "")): release them first; nothing was deleted")
            }
            var n = 0
            for try await _ in try await c.query("DELETE FROM archive_message WHERE id = ANY(\(ids)) RETURNING id", logger: self.db.logger).decode(
                Int64.self)
            {
                n += 1
            }
            return n
        }
    }

    public func setHold(ids: [Int64], held: Bool) async throws -> Int {
        try await db.run { client in
            var n = 0
            let rows = try await client.query(
                "UPDATE archive_message SET held = \(held) WHERE id = ANY(\(ids)) AND held != \(held) RETURNING id", logger: self.db.logger)
            for try await _ in rows.decode(Int64.self) { n += 1 }
            return n
        }
    }

    public func rekey() async throws -> Int {
        guard let keys = try keys() else { throw ArchiveError("no archive_encryption key_file is configured") }
        var changed = 0
        var after: Int64 = 0
        while true {
            let from = after
            let rows: [(Int64, Data)] = try await db.run { client in
                var out: [(Int64, Data)] = []
                let rows = try await client.query(
                    "SELECT id, body FROM archive_message WHERE id > \(from) ORDER BY id LIMIT 500", logger: self.db.logger)
                for try await row in rows.decode((Int64, Data).self) { out.append(row) }
                return out
            }
            guard let last = rows.last else { return changed }
            after = last.0
            let updates = try rows.compactMap { id, body in try ArchiveBody.resealed([UInt8](body), keys: keys).map { (id, Data($0)) } }
            try await db.transaction { c in
                for (id, sealed) in updates {
                    try await c.query(
                        "UPDATE archive_message SET body = \(sealed), stored_size = \(sealed.count) WHERE id = \(id)", logger: self.db.logger)
                }
                return ()
            }
            changed += updates.count
        }
    }

    public func stats() async throws -> [ArchiveStats] {
        try await db.run { client in
            var out: [ArchiveStats] = []
            let rows = try await client.query(
                """
                SELECT archive, count(*)::bigint, coalesce(sum(size), 0)::bigint, coalesce(sum(stored_size), 0)::bigint, min(received_at), max(received_at)
                FROM archive_message GROUP BY archive ORDER BY archive
                """, logger: self.db.logger)
            for try await (archive, n, bytes, stored, oldest, newest) in rows.decode((String, Int, Int, Int, Double?, Double?).self) {
                out.append(
                    ArchiveStats(
                        archive: archive, messages: n, bytes: bytes, storedBytes: stored, oldest: oldest.map(Date.init(timeIntervalSince1970:)),
                        newest: newest.map(Date.init(timeIntervalSince1970:))))
            }
            return out
        }
    }
}
