// Reading a SQLite archive out whole, for `sluice storage copy`: each
// message's metadata, its bytes (opened with the archive's keys), the text
// its index holds and its legal hold, in id order, a batch at a time.

import Foundation
import GRDB

extension SQLiteArchiveStore {
    /// Up to `limit` messages after id `after`, whole: metadata, the bytes, the index text, the hold.
    public func export(after: Int64, limit: Int) throws -> [(id: Int64, entry: ArchiveEntry)] {
        let rows = try db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.archive, m.queue_id, m.received_at, m.sender, m.recipients, m.from_header, m.to_header, m.cc_header, m.subject,
                        m.message_id, m.attachments, m.dlp, m.auth, m.body, m.size, m.client_ip, m.listener, m.user_name, m.tls, m.dlp_profiles,
                        m.dmarc, m.held, t.body
                    FROM message m LEFT JOIN message_text t ON t.rowid = m.id WHERE m.id > ? ORDER BY m.id LIMIT ?
                    """, arguments: [after, limit])
        }
        return try rows.map { r in
            var e = ArchiveEntry(
                archive: r[1], queueID: r[2], receivedAt: Date(timeIntervalSince1970: r[3]), sender: r[4],
                recipients: (r[5] as String).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, from: r[6], to: r[7],
                cc: r[8], subject: r[9], messageID: r[10], attachments: (r[11] as String).split(separator: "\n").map(String.init), dlpSummary: r[12],
                authSummary: r[13], bodyText: (r[23] as String?) ?? "", raw: try ArchiveBody.unpack([UInt8](r[14] as Data), size: r[15], keys: keys))
            e.submission.clientIP = r[16]
            e.submission.listener = r[17]
            e.submission.user = r[18]
            e.submission.tls = r[19]
            e.submission.dlpProfiles = (r[20] as String).split(separator: ",").map(String.init)
            e.submission.dmarc = r[21]
            e.held = r[22]
            return (r[0] as Int64, e)
        }
    }
}
