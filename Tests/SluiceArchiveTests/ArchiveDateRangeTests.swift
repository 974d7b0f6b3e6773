// Date ranges as index ranges (issue 20: "one day" and "a recipient domain in a
// month" grew with the archive): the address keys and DLP rows carry the time
// received, searches driven by them or by a date range alone come newest first
// by that time, paging visits every match once, and an archive whose keys were
// written without the time (schema v5 before v6) is rebuilt by the upgrade.

import Foundation
import GRDB
import XCTest

@testable import SluiceArchive

final class ArchiveDateRangeTests: XCTestCase {
    var dir: String!
    override func setUp() { dir = NSTemporaryDirectory() + "archive-d-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    let day0 = Date(timeIntervalSince1970: 1_790_000_000)

    /// Message `i` received on day `day` (days out of the order they are archived in), to partner.test every
    /// other one, with the pci profile every third one.
    func entry(_ i: Int, day: Int) -> ArchiveEntry {
        var e = ArchiveEntry(
            archive: "default", queueID: "Q\(i)", receivedAt: day0.addingTimeInterval(Double(day) * 86400 + Double(i)),
            sender: "s\(i % 3)@corp.test", recipients: [i % 2 == 0 ? "r@partner.test" : "r@other.test"], from: "", to: "", cc: "",
            subject: "m\(i)", messageID: "<\(i)@t>", attachments: [], dlpSummary: "", authSummary: "", bodyText: "word\(i % 2)",
            raw: Array("Subject: x\r\n\r\n".utf8))
        if i % 3 == 0 { e.submission.dlpProfiles = ["pci"] }
        return e
    }

    func days() -> [Int] { (0..<60).map { ($0 * 7) % 30 } }  // 60 messages over 30 days, archived out of time order

    func every(_ store: SQLiteArchiveStore, _ build: (inout ArchiveQuery) -> Void, pageSize: Int = 7) throws -> [String] {
        var q = ArchiveQuery()
        build(&q)
        q.limit = pageSize
        var out: [String] = []
        while true {
            let page = try store.search(q)
            out += page.map(\.queueID)
            guard page.count == pageSize, let last = page.last else { return out }
            q.before = ArchiveCursor(last)
        }
    }

    func expected(_ include: (Int, Int) -> Bool) -> [String] {
        days().enumerated().filter { include($0.offset, $0.element) }
            .sorted { ($0.element, $0.offset) > ($1.element, $1.offset) }.map { "Q\($0.offset)" }
    }

    func testDateRangesWithAndWithoutFiltersComeNewestFirstAndPageCompletely() throws {
        let store = try SQLiteArchiveStore(path: dir + "/archive.sqlite")
        try store.add(days().enumerated().map { entry($0.offset, day: $0.element) })
        let since = day0.addingTimeInterval(5 * 86400)
        let until = day0.addingTimeInterval(20 * 86400)
        let inRange = { (day: Int) in day >= 5 && day < 20 }
        // A date range alone: the time index.
        XCTAssertEqual(try every(store) { $0.since = since; $0.until = until }, expected { _, d in inRange(d) })
        // With an address: the key's time range.
        XCTAssertEqual(try every(store) { $0.to = "partner.test"; $0.since = since; $0.until = until }, expected { i, d in i % 2 == 0 && inRange(d) })
        // Two addresses, one driving and one checked.
        XCTAssertEqual(
            try every(store) { $0.to = "partner.test"; $0.from = "s0@corp.test"; $0.since = since },
            expected { i, d in i % 2 == 0 && i % 3 == 0 && d >= 5 })
        // With a DLP profile.
        XCTAssertEqual(try every(store) { $0.dlpProfile = "pci"; $0.until = until }, expected { i, d in i % 3 == 0 && d < 20 })
        XCTAssertEqual(try every(store) { $0.dlpProfile = "pci"; $0.from = "corp.test" }, expected { i, _ in i % 3 == 0 })
        // Text drives by archive id; paging still visits each match once.
        let text = try every(store) { $0.text = "word0"; $0.since = since }
        XCTAssertEqual(Set(text), Set(expected { i, d in i % 2 == 0 && d >= 5 }))
        XCTAssertEqual(text.count, Set(text).count)
        var q = ArchiveQuery()
        q.to = "partner.test"
        q.since = since
        XCTAssertEqual(try store.count(q), expected { i, d in i % 2 == 0 && d >= 5 }.count)
    }

    /// The query plans: a date range alone, and with an address or a profile, walk an index without sorting.
    func testDateRangesUseAnIndexWithoutATemporaryBTree() throws {
        let store = try SQLiteArchiveStore(path: dir + "/archive.sqlite")
        try store.add(days().enumerated().map { entry($0.offset, day: $0.element) })
        for build in [
            { (q: inout ArchiveQuery) in q.since = self.day0 },
            { (q: inout ArchiveQuery) in q.to = "partner.test"; q.since = self.day0 },
            { (q: inout ArchiveQuery) in q.dlpProfile = "pci"; q.until = self.day0 },
        ] {
            var q = ArchiveQuery()
            build(&q)
            let (from, filter, order, args) = try SQLiteArchiveStore.clauses(q)
            let sql = "EXPLAIN QUERY PLAN SELECT m.id FROM \(from)\(filter) ORDER BY \(order.map { $0 + " DESC" }.joined(separator: ", ")) LIMIT 100"
            let plan = try store.db.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { $0["detail"] as String } }
            XCTAssertFalse(plan.contains { $0.contains("TEMP B-TREE") }, "\(sql)\n\(plan)")
        }
    }

    /// An archive whose keys and DLP rows were written without the time (v5 as it first shipped).
    func testAnArchiveWithKeysWithoutTimesIsRebuiltByTheUpgrade() throws {
        let path = dir + "/archive.sqlite"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteArchiveStore.migrator.migrate(pool, upTo: "v4: legal hold")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO message (id, archive, queue_id, received_at, sender, recipients, from_header, to_header, cc_header, subject,
                            message_id, size, attachments, dlp, auth, stored_size, body, dlp_profiles)
                        VALUES (7, 'default', 'OLD7', \(day0.timeIntervalSince1970), 'old@legacy.test', 'x@partner.test', '', '', '', 's', '', 0, '', '', '', 0, x'', 'pci');
                        INSERT INTO message_dlp (message_id, profile) VALUES (7, 'pci');
                        CREATE TABLE message_key (key TEXT NOT NULL, message_id INTEGER NOT NULL, PRIMARY KEY (key, message_id)) WITHOUT ROWID;
                        CREATE INDEX message_key_message ON message_key (message_id);
                        INSERT INTO message_key VALUES ('s=old@legacy.test', 7), ('s@legacy.test', 7), ('r=x@partner.test', 7), ('r@partner.test', 7);
                        INSERT INTO grdb_migrations (identifier) VALUES ('v5: addresses indexed for --from and --to');
                        """)
            }
        }
        let store = try SQLiteArchiveStore(path: path)
        var q = ArchiveQuery()
        q.from = "@legacy.test"
        q.since = day0
        XCTAssertEqual(try store.search(q).map(\.queueID), ["OLD7"])
        q = ArchiveQuery()
        q.dlpProfile = "pci"
        q.until = day0.addingTimeInterval(1)
        XCTAssertEqual(try store.search(q).map(\.queueID), ["OLD7"])
        XCTAssertEqual(try store.delete(ids: [7]), 1)
        XCTAssertEqual(try store.search(ArchiveQuery()).count, 0)
    }
}
