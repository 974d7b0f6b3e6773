// The SQLite archive store: round trip of the bytes, each filter, full-text
// queries, a retried entry stored once, retention with dates the test picks,
// and mbox quoting.

import Foundation
import XCTest

@testable import SluiceArchive

final class ArchiveStoreTests: XCTestCase {
    var dir: String!
    var store: SQLiteArchiveStore!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "archive-\(UUID().uuidString)"
        store = try SQLiteArchiveStore(path: dir + "/archive.sqlite")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func entry(_ id: String, archive: String = "default", daysAgo: Double, subject: String, body: String, attachments: [String] = []) -> ArchiveEntry {
        let raw = Array("Subject: \(subject)\r\n\r\n\(body)\r\n".utf8)
        return ArchiveEntry(
            archive: archive, queueID: id, receivedAt: Date().addingTimeInterval(-daysAgo * 86400), sender: "a@example.test",
            recipients: ["b@example.org"], from: "a@example.test", to: "b@example.org", cc: "", subject: subject, messageID: "<\(id)@t>",
            attachments: attachments, dlpSummary: "", authSummary: "", bodyText: body, raw: raw)
    }

    func testRoundTripFiltersAndText() throws {
        try store.add([
            entry("Q1", daysAgo: 100, subject: "old report", body: "quarterly numbers"),
            entry("Q2", daysAgo: 10, subject: "new report", body: "the falcon project", attachments: ["plan.pdf"]),
            entry("Q3", archive: "legal", daysAgo: 1, subject: "contract", body: "signed"),
        ])
        var q = ArchiveQuery()
        XCTAssertEqual(try store.search(q).map(\.queueID), ["Q3", "Q2", "Q1"], "newest first")
        q.archive = "default"
        XCTAssertEqual(try store.search(q).count, 2)
        q = ArchiveQuery()
        q.text = "falc*"
        XCTAssertEqual(try store.search(q).map(\.queueID), ["Q2"])
        q.text = "plan"
        XCTAssertEqual(try store.search(q).map(\.queueID), ["Q2"], "attachment names are indexed")
        q = ArchiveQuery()
        q.since = Date().addingTimeInterval(-20 * 86400)
        q.until = Date().addingTimeInterval(-5 * 86400)
        XCTAssertEqual(try store.search(q).map(\.queueID), ["Q2"])
        q = ArchiveQuery()
        q.hasAttachment = true
        XCTAssertEqual(try store.search(q).map(\.queueID), ["Q2"])
        q = ArchiveQuery()
        q.text = "-falcon"
        XCTAssertThrowsError(try store.search(q), "only words to leave out")
        let id = try XCTUnwrap(try store.search(ArchiveQuery()).first { $0.queueID == "Q2" }?.id)
        XCTAssertEqual(try store.raw(id: id), Array("Subject: new report\r\n\r\nthe falcon project\r\n".utf8))
    }

    func testCountAndPagingSeeEveryMatch() throws {
        try store.add((1...7).map { entry("P\($0)", daysAgo: Double($0), subject: "page \($0)", body: "common words") })
        var q = ArchiveQuery()
        q.text = "common"
        q.limit = 3
        XCTAssertEqual(try store.count(q), 7, "the limit does not apply to the count")
        var seen: [String] = []
        while true {
            let page = try store.search(q)
            seen += page.map(\.queueID)
            guard page.count == q.limit, let last = page.last else { break }
            q.before = ArchiveCursor(last)
        }
        XCTAssertEqual(seen, (1...7).reversed().map { "P\($0)" }, "newest archived first, each once")
        q.text = "-common"
        XCTAssertThrowsError(try store.count(q), "only words to leave out")
    }

    /// Issue 20: who submitted a message and its verdicts are stored and are filters (client IP, user, listener,
    /// DLP profile, DMARC result), and retention removes them with the message.
    func testSubmissionMetadataAndVerdictFilters() throws {
        var a = entry("M1", daysAgo: 1, subject: "from the app", body: "x")
        a.submission.clientIP = "192.0.2.7"
        a.submission.listener = "submission"
        a.submission.user = "app"
        a.submission.tls = "TLSv1.3"
        a.submission.dlpProfiles = ["pci", "secrets"]
        a.submission.dmarc = "pass"
        var b = entry("M2", daysAgo: 400, subject: "from outside", body: "y")
        b.submission.clientIP = "203.0.113.9"
        b.submission.listener = "mx"
        b.submission.dmarc = "fail"
        try store.add([a, b])
        func ids(_ change: (inout ArchiveQuery) -> Void) throws -> [String] {
            var q = ArchiveQuery()
            change(&q)
            return try store.search(q).map(\.queueID)
        }
        XCTAssertEqual(try ids { $0.clientIP = "192.0.2.7" }, ["M1"])
        XCTAssertEqual(try ids { $0.user = "app" }, ["M1"])
        XCTAssertEqual(try ids { $0.listener = "mx" }, ["M2"])
        XCTAssertEqual(try ids { $0.dlpProfile = "secrets" }, ["M1"])
        XCTAssertEqual(try ids { $0.dlpProfile = "pii" }, [])
        XCTAssertEqual(try ids { $0.dmarc = "FAIL" }, ["M2"])
        let found = try XCTUnwrap(try store.search(ArchiveQuery()).first { $0.queueID == "M1" })
        XCTAssertEqual(found.submission.tls, "TLSv1.3")
        XCTAssertEqual(found.submission.dlpProfiles, ["pci", "secrets"])
        // Retention takes the profile rows with the message.
        XCTAssertEqual(try store.purge(before: ["default": Date().addingTimeInterval(-365 * 86400)], batch: 100), 1)
        XCTAssertEqual(try ids { $0.listener = "mx" }, [])
    }

    func testARetriedEntryIsStoredOnce() throws {
        try store.add([entry("Q1", daysAgo: 0, subject: "s", body: "b")])
        try store.add([entry("Q1", daysAgo: 0, subject: "s", body: "b")])
        XCTAssertEqual(try store.search(ArchiveQuery()).count, 1)
        var q = ArchiveQuery()
        q.text = "b"
        XCTAssertEqual(try store.search(q).count, 1, "and indexed once")
    }

    func testRetentionRemovesOnlyExpiredMessagesInBatches() throws {
        try store.add((0..<25).map { entry("OLD\($0)", daysAgo: 400, subject: "old", body: "x") })
        try store.add([entry("NEW", daysAgo: 3, subject: "new", body: "y"), entry("LEGAL", archive: "legal", daysAgo: 400, subject: "kept", body: "z")])
        let cutoff = Date().addingTimeInterval(-365 * 86400)
        XCTAssertEqual(try store.purge(before: ["default": cutoff], batch: 10), 10)
        XCTAssertEqual(try store.purge(before: ["default": cutoff], batch: 100), 15)
        XCTAssertEqual(try store.purge(before: ["default": cutoff], batch: 100), 0)
        XCTAssertEqual(Set(try store.search(ArchiveQuery()).map(\.queueID)), ["NEW", "LEGAL"], "legal is permanent (no cutoff)")
        var q = ArchiveQuery()
        q.text = "x"
        XCTAssertTrue(try store.search(q).isEmpty, "the index forgets them too")
    }

    func testMBoxQuoting() {
        var out: [UInt8] = []
        MBox.append(Array("Subject: s\r\n\r\nFrom here\r\n>From there\r\nok\r\n".utf8), sender: "a@b.test", date: Date(timeIntervalSince1970: 0), to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "From a@b.test Thu Jan  1 00:00:00 1970\nSubject: s\n\n>From here\n>>From there\nok\n\n")
    }
}

extension ArchiveStoreTests {
    /// Issue 20: erasure and legal hold. A held message outlives retention and cannot be deleted; a delete that
    /// names a held message deletes nothing; a deleted message is gone from search, the index and its bytes.
    func testLegalHoldOutlivesRetentionAndBlocksDeletion() throws {
        try store.add([
            entry("H1", daysAgo: 400, subject: "held contract", body: "merger terms"),
            entry("H2", daysAgo: 400, subject: "old note", body: "merger lunch"),
            entry("H3", daysAgo: 1, subject: "new note", body: "merger today"),
        ])
        let ids = Dictionary(uniqueKeysWithValues: try store.search(ArchiveQuery()).map { ($0.queueID, $0.id) })
        XCTAssertEqual(try store.setHold(ids: [ids["H1"]!], held: true), 1)
        XCTAssertEqual(try store.setHold(ids: [ids["H1"]!], held: true), 0, "already held")
        var q = ArchiveQuery()
        q.held = true
        XCTAssertEqual(try store.search(q).map(\.queueID), ["H1"])
        XCTAssertEqual(try store.purge(before: ["default": Date().addingTimeInterval(-365 * 86400)], batch: 100), 1, "H2 only")
        XCTAssertNotNil(try store.message(id: ids["H1"]!), "held past retention")

        XCTAssertThrowsError(try store.delete(ids: [ids["H3"]!, ids["H1"]!])) { XCTAssertTrue("\($0)".contains("legal hold"), "\($0)") }
        XCTAssertNotNil(try store.message(id: ids["H3"]!), "nothing deleted when one is held")
        XCTAssertEqual(try store.delete(ids: [ids["H3"]!, 999_999]), 1, "an unknown id is not counted")
        XCTAssertNil(try store.message(id: ids["H3"]!))
        XCTAssertNil(try store.raw(id: ids["H3"]!))
        q = ArchiveQuery()
        q.text = "merger"
        XCTAssertEqual(try store.search(q).map(\.queueID), ["H1"], "gone from the index too")
        XCTAssertEqual(try store.setHold(ids: [ids["H1"]!], held: false), 1)
        XCTAssertEqual(try store.delete(ids: [ids["H1"]!]), 1)
        XCTAssertEqual(try store.count(ArchiveQuery()), 0)
    }
}
