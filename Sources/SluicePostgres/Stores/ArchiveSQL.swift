// ArchiveSQL: an ArchiveQuery as PostgreSQL's FROM, WHERE and ORDER BY, with
// its parameters. The table that drives the search is the embedded store's
// choice, so results come in the same order on both backends: the text
// index (the archive's order, by id) when there is text, else the first
// address filter's key or the DLP profile (by time received, then id), else
// the messages (by time for a date range alone, by id otherwise).

import PostgresNIO
import SluiceArchive

struct ArchiveSQL {
    var from = "archive_message m"
    var order = ["m.id"]
    var clauses: [String] = []
    var binds = PostgresBindings()

    var filter: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    /// Appends a parameter; returns its placeholder.
    mutating func bind(_ value: some PostgresNonThrowingEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    init(_ q: ArchiveQuery) throws {
        let keyed = [(q.from, "s"), (q.to, "r")].compactMap { text, role -> (String, String)? in
            guard let text, !text.isEmpty else { return nil }
            return (text, role)
        }
        var time = "m.received_at"
        var driverKey: String?
        if let text = q.text, !text.isEmpty {
            let parsed: ArchiveTextQuery
            do { parsed = try ArchiveTextQuery.parse(text) } catch { throw ArchiveError("text query: \(error.description)") }
            clauses.append("m.words @@ \(bind(ArchiveWords.query(parsed)))::tsquery")
        } else if let key = keyed.lazy.compactMap({ ArchiveAddressFilter($0.0).key(role: $0.1) }).first {
            driverKey = key
            from = "archive_key k JOIN archive_message m ON m.id = k.message_id"
            (order, time) = (["k.received_at", "k.message_id"], "k.received_at")
            clauses.append("k.key = \(bind(key))")
        } else if let profile = q.dlpProfile {
            from = "archive_dlp d JOIN archive_message m ON m.id = d.message_id"
            (order, time) = (["d.received_at", "d.message_id"], "d.received_at")
            clauses.append("d.profile = \(bind(profile))")
        } else if q.since != nil || q.until != nil, [q.clientIP, q.listener, q.user, q.dmarc].allSatisfy({ $0 == nil }) {
            order = ["m.received_at", "m.id"]
        }
        for (text, role) in keyed {
            let filter = ArchiveAddressFilter(text)
            if let key = filter.key(role: role) {
                if key == driverKey {
                    driverKey = nil
                    continue
                }
                clauses.append("EXISTS (SELECT 1 FROM archive_key WHERE key = \(bind(key)) AND message_id = m.id)")
            } else if case .prefix(let p) = filter {
                clauses.append("m.id IN (SELECT message_id FROM archive_key WHERE key >= \(bind("\(role)=\(p)")) AND key < \(bind("\(role)=\(p)\u{10FFFF}")))")
            }
        }
        if let a = q.archive { clauses.append("m.archive = \(bind(a))") }
        if let s = q.subject { clauses.append("strpos(lower(m.subject), lower(\(bind(s)))) > 0") }
        if let s = q.since { clauses.append("\(time) >= \(bind(s.timeIntervalSince1970))") }
        if let u = q.until { clauses.append("\(time) < \(bind(u.timeIntervalSince1970))") }
        if let h = q.hasAttachment { clauses.append(h ? "m.attachments != ''" : "m.attachments = ''") }
        if let b = q.before {
            if order.count == 2 {
                clauses.append("(\(order[0]), \(order[1])) < (\(bind(b.receivedAt.timeIntervalSince1970)), \(bind(b.id)))")
            } else {
                clauses.append("\(order[0]) < \(bind(b.id))")
            }
        }
        if let v = q.clientIP { clauses.append("m.client_ip = \(bind(v))") }
        if let v = q.listener { clauses.append("m.listener = \(bind(v))") }
        if let v = q.user { clauses.append("m.user_name = \(bind(v))") }
        if let v = q.dmarc { clauses.append("m.dmarc = \(bind(v.lowercased()))") }
        if let h = q.held { clauses.append(h ? "m.held" : "NOT m.held") }
        if let v = q.dlpProfile, !from.hasPrefix("archive_dlp") {
            clauses.append("EXISTS (SELECT 1 FROM archive_dlp WHERE profile = \(bind(v)) AND message_id = m.id)")
        }
    }
}
