// The contract of ArchiveStore, written against the protocol: the bytes round
// trip, every filter and the text query language, newest first with paging
// and counts, a retried entry once, retention by archive, legal hold against
// retention and erasure, statistics. The embedded store's test runs it; a
// shared backend's would, unchanged.

import Foundation
import SluiceArchive
import XCTest

public struct ArchiveStoreContract {
    /// A new, empty store.
    let make: () throws -> any ArchiveStore

    public init(make: @escaping () throws -> any ArchiveStore) { self.make = make }

    public func run() async throws {
        try await emptyStoreAnswersEmpty()
        try await roundTripFiltersAndText()
        try await countAndPagingSeeEveryMatch()
        try await submissionFiltersAndRetention()
        try await aRetriedEntryIsStoredOnce()
        try await legalHoldOutlivesRetentionAndBlocksDeletion()
    }

    static let now = Date()

    func entry(_ id: String, archive: String = "default", daysAgo: Double, subject: String, body: String, attachments: [String] = []) -> ArchiveEntry {
        ArchiveEntry(
            archive: archive, queueID: id, receivedAt: Self.now.addingTimeInterval(-daysAgo * 86400), sender: "a@example.test",
            recipients: ["b@example.org"], from: "a@example.test", to: "b@example.org", cc: "", subject: subject, messageID: "<\(id)@t>",
            attachments: attachments, dlpSummary: "", authSummary: "", bodyText: body, raw: Array("Subject: \(subject)\r\n\r\n\(body)\r\n".utf8))
    }

    func ids(_ store: any ArchiveStore, _ change: (inout ArchiveQuery) -> Void = { _ in }) async throws -> [String] {
        var q = ArchiveQuery()
        change(&q)
        return try await store.search(q).map(\.queueID)
    }

    func emptyStoreAnswersEmpty() async throws {
        let store = try make()
        let found = try await store.search(ArchiveQuery())
        XCTAssertEqual(found.count, 0)
        let count = try await store.count(ArchiveQuery())
        XCTAssertEqual(count, 0)
        let purged = try await store.purge(before: ["default": Self.now], batch: 10)
        XCTAssertEqual(purged, 0)
        let raw = try await store.raw(id: 1)
        XCTAssertNil(raw)
    }

    func roundTripFiltersAndText() async throws {
        let store = try make()
        try await store.add([
            entry("Q1", daysAgo: 100, subject: "old report", body: "quarterly numbers"),
            entry("Q2", daysAgo: 10, subject: "new report", body: "the falcon project", attachments: ["plan.pdf"]),
            entry("Q3", archive: "legal", daysAgo: 1, subject: "contract", body: "signed"),
        ])
        let all = try await ids(store)
        XCTAssertEqual(all, ["Q3", "Q2", "Q1"], "newest first")
        let archive = try await ids(store) { $0.archive = "default" }
        XCTAssertEqual(archive, ["Q2", "Q1"])
        let prefix = try await ids(store) { $0.text = "falc*" }
        XCTAssertEqual(prefix, ["Q2"])
        let attachment = try await ids(store) { $0.text = "plan" }
        XCTAssertEqual(attachment, ["Q2"], "attachment names are indexed")
        let range = try await ids(store) {
            $0.since = Self.now.addingTimeInterval(-20 * 86400)
            $0.until = Self.now.addingTimeInterval(-5 * 86400)
        }
        XCTAssertEqual(range, ["Q2"])
        let withAttachment = try await ids(store) { $0.hasAttachment = true }
        XCTAssertEqual(withAttachment, ["Q2"])
        await XCTAssertThrowsAsync(try await ids(store) { $0.text = "-falcon" }, "only words to leave out")
        let listed = try await store.search(ArchiveQuery())
        let id = try XCTUnwrap(listed.first { $0.queueID == "Q2" }?.id)
        let raw = try await store.raw(id: id)
        XCTAssertEqual(raw, Array("Subject: new report\r\n\r\nthe falcon project\r\n".utf8))
        let stats = try await store.stats()
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: stats.map { ($0.archive, $0.messages) }), ["default": 2, "legal": 1])
    }

    func countAndPagingSeeEveryMatch() async throws {
        let store = try make()
        try await store.add((1...7).map { entry("P\($0)", daysAgo: Double($0), subject: "page \($0)", body: "common words") })
        var q = ArchiveQuery()
        q.text = "common"
        q.limit = 3
        let count = try await store.count(q)
        XCTAssertEqual(count, 7, "the limit does not apply to the count")
        var seen: [String] = []
        while true {
            let page = try await store.search(q)
            seen += page.map(\.queueID)
            guard page.count == q.limit, let last = page.last else { break }
            q.before = ArchiveCursor(last)
        }
        XCTAssertEqual(seen, (1...7).reversed().map { "P\($0)" }, "newest archived first, each once")
    }

    func submissionFiltersAndRetention() async throws {
        let store = try make()
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
        try await store.add([a, b, entry("M3", archive: "legal", daysAgo: 400, subject: "kept", body: "z")])
        let byIP = try await ids(store) { $0.clientIP = "192.0.2.7" }
        XCTAssertEqual(byIP, ["M1"])
        let byUser = try await ids(store) { $0.user = "app" }
        XCTAssertEqual(byUser, ["M1"])
        let byListener = try await ids(store) { $0.listener = "mx" }
        XCTAssertEqual(byListener, ["M2"])
        let byProfile = try await ids(store) { $0.dlpProfile = "secrets" }
        XCTAssertEqual(byProfile, ["M1"])
        let byDMARC = try await ids(store) { $0.dmarc = "FAIL" }
        XCTAssertEqual(byDMARC, ["M2"])
        let listed = try await store.search(ArchiveQuery())
        let found = try XCTUnwrap(listed.first { $0.queueID == "M1" })
        XCTAssertEqual(found.submission.tls, "TLSv1.3")
        XCTAssertEqual(found.submission.dlpProfiles, ["pci", "secrets"])
        // Retention is per archive: "legal" has no cutoff here.
        let purged = try await store.purge(before: ["default": Self.now.addingTimeInterval(-365 * 86400)], batch: 100)
        XCTAssertEqual(purged, 1)
        let left = try await ids(store)
        XCTAssertEqual(Set(left), ["M1", "M3"])
    }

    func aRetriedEntryIsStoredOnce() async throws {
        let store = try make()
        try await store.add([entry("Q1", daysAgo: 0, subject: "s", body: "b")])
        try await store.add([entry("Q1", daysAgo: 0, subject: "s", body: "b")])
        let all = try await ids(store)
        XCTAssertEqual(all, ["Q1"])
        let indexed = try await ids(store) { $0.text = "b" }
        XCTAssertEqual(indexed, ["Q1"], "and indexed once")
    }

    func legalHoldOutlivesRetentionAndBlocksDeletion() async throws {
        let store = try make()
        try await store.add([
            entry("H1", daysAgo: 400, subject: "held contract", body: "merger terms"),
            entry("H2", daysAgo: 400, subject: "old note", body: "merger lunch"),
            entry("H3", daysAgo: 1, subject: "new note", body: "merger today"),
        ])
        let ids = Dictionary(uniqueKeysWithValues: try await store.search(ArchiveQuery()).map { ($0.queueID, $0.id) })
        let held = try await store.setHold(ids: [ids["H1"]!], held: true)
        XCTAssertEqual(held, 1)
        let again = try await store.setHold(ids: [ids["H1"]!], held: true)
        XCTAssertEqual(again, 0, "already held")
        let heldOnly = try await self.ids(store) { $0.held = true }
        XCTAssertEqual(heldOnly, ["H1"])
        let purged = try await store.purge(before: ["default": Self.now.addingTimeInterval(-365 * 86400)], batch: 100)
        XCTAssertEqual(purged, 1, "H2 only")
        let kept = try await store.message(id: ids["H1"]!)
        XCTAssertNotNil(kept, "held past retention")
        await XCTAssertThrowsAsync(try await store.delete(ids: [ids["H3"]!, ids["H1"]!]), "one of them is held")
        let notDeleted = try await store.message(id: ids["H3"]!)
        XCTAssertNotNil(notDeleted, "nothing deleted when one is held")
        let deleted = try await store.delete(ids: [ids["H3"]!, 999_999])
        XCTAssertEqual(deleted, 1, "an unknown id is not counted")
        let gone = try await store.raw(id: ids["H3"]!)
        XCTAssertNil(gone)
        let indexed = try await self.ids(store) { $0.text = "merger" }
        XCTAssertEqual(indexed, ["H1"], "gone from the index too")
        let released = try await store.setHold(ids: [ids["H1"]!], held: false)
        XCTAssertEqual(released, 1)
        let last = try await store.delete(ids: [ids["H1"]!])
        XCTAssertEqual(last, 1)
        let count = try await store.count(ArchiveQuery())
        XCTAssertEqual(count, 0)
    }
}
