// The archive on PostgreSQL beyond the contract: the text query language
// means the same as on SQLite (accents and case ignored, hyphenated words and
// addresses as phrases that never span two fields, OR and exclusions), the
// address filters of schema v6, and messages sealed at rest with the same key
// file, opened after a rekey.

import Foundation
import SluiceArchive
import SluicePostgres
import SluiceTestSupport
import XCTest

final class PostgresArchiveTests: XCTestCase {
    override class func tearDown() { PostgresFixture.stop() }

    func entry(_ id: String, subject: String, body: String, from: String = "alice@external.org", to: String = "bob@corp.test") -> ArchiveEntry {
        ArchiveEntry(
            archive: "default", queueID: id, receivedAt: Date(timeIntervalSince1970: 1_800_000_000 + (Double(String(id.dropFirst())) ?? 0)),
            sender: from, recipients: [to], from: "Alice <\(from)>", to: to, cc: "", subject: subject, messageID: "<\(id)@t>", attachments: [],
            dlpSummary: "", authSummary: "", bodyText: body, raw: Array("Subject: \(subject)\r\n\r\n\(body)\r\n".utf8))
    }

    func ids(_ store: any ArchiveStore, _ change: (inout ArchiveQuery) -> Void) async throws -> [String] {
        var q = ArchiveQuery()
        change(&q)
        return try await store.search(q).map(\.queueID).sorted()
    }

    func testTheTextQueryLanguageAndAddressFiltersMeanWhatTheyMeanOnSQLite() async throws {
        let server = try PostgresFixture.server()
        let pg = try PostgresFixture.storage(try await PostgresFixture.migratedDatabase(server)).store((any ArchiveStore).self)
        let dir = NSTemporaryDirectory() + "sluice-pgarch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let executors = NIOThreadPoolForTests.make()
        let sqlite = EmbeddedArchiveStore(path: dir + "/archive.sqlite", keyFile: nil, io: executors)
        let entries = [
            entry("M1", subject: "Café meeting", body: "the state-of-the-art quarterly payroll"),
            entry("M2", subject: "state report", body: "of the art department; salary review", from: "carol@partner.test"),
            entry("M3", subject: "draft invoice", body: "payroll draft, do not send", to: "dave@mail.corp.test"),
            entry("M4", subject: "Résumé", body: "INVOICE 2024-17 attached"),
        ]
        try await pg.add(entries)
        try await sqlite.add(entries)
        let queries: [(String, [String])] = [
            ("cafe", ["M1"]),
            ("CAFÉ", ["M1"]),
            ("resume", ["M4"]),
            ("state-of-the-art", ["M1"]),
            ("\"quarterly payroll\"", ["M1"]),
            ("payroll OR salary", ["M1", "M2", "M3"]),
            ("payroll -draft", ["M1"]),
            ("payroll -\"do not send\"", ["M1"]),
            ("invoi*", ["M3", "M4"]),
            ("alice@external.org", ["M1", "M3", "M4"]),
            ("2024-17", ["M4"]),
            // "report" ends the subject and "of" starts the body: not one phrase across two fields.
            ("\"report of\"", []),
        ]
        for (text, expected) in queries {
            let fromPG = try await ids(pg) { $0.text = text }
            let fromSQLite = try await ids(sqlite) { $0.text = text }
            XCTAssertEqual(fromPG, expected, "postgres: \(text)")
            XCTAssertEqual(fromSQLite, expected, "sqlite: \(text)")
        }
        let filters: [((inout ArchiveQuery) -> Void, [String])] = [
            ({ $0.from = "alice@external.org" }, ["M1", "M3", "M4"]),
            ({ $0.from = "@partner.test" }, ["M2"]),
            ({ $0.from = "carol" }, ["M2"]),
            ({ $0.to = "corp.test" }, ["M1", "M2", "M3", "M4"]),
            ({ $0.to = "dave@" }, ["M3"]),
            ({ $0.to = "corp.test"; $0.text = "payroll" }, ["M1", "M3"]),
            ({ $0.subject = "REPORT" }, ["M2"]),
        ]
        for (change, expected) in filters {
            let fromPG = try await ids(pg, change)
            let fromSQLite = try await ids(sqlite, change)
            XCTAssertEqual(fromPG, expected)
            XCTAssertEqual(fromSQLite, expected)
        }
        try await executors.shutdownGracefully()
    }

    func testMessagesAreSealedWithTheKeyFileAndRekeyed() async throws {
        let server = try PostgresFixture.server()
        let dir = NSTemporaryDirectory() + "sluice-pgkeys-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyFile = dir + "/archive.keys"
        try (ArchiveKeyRing.newKeyLine(id: "k1") + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        let base = try await PostgresFixture.migratedDatabase(server)
        let database = base.section(PostgresSection.self)!.database
        let config = try PostgresFixture.config(server, database: database, top: "archive_encryption: { key_file: \(keyFile) }\n")
        let store = try PostgresFixture.storage(config).store((any ArchiveStore).self)
        try await store.add([entry("S1", subject: "secret plans", body: "the merger is on")])
        let stored = try server.query("SELECT encode(body, 'escape') FROM archive_message", database: database)
        XCTAssertTrue(stored.hasPrefix("SLA1"), "sealed at rest: \(stored.prefix(20))")
        XCTAssertFalse(stored.contains("merger"))
        let id = try await store.search(ArchiveQuery())[0].id
        let raw = try await store.raw(id: id)
        XCTAssertEqual(raw, Array("Subject: secret plans\r\n\r\nthe merger is on\r\n".utf8))
        let found = try await ids(store) { $0.text = "merger" }
        XCTAssertEqual(found, ["S1"], "the words stay searchable")

        // A new key: rekey seals with it, and the old line can go.
        try (ArchiveKeyRing.newKeyLine(id: "k1") + "\n" + ArchiveKeyRing.newKeyLine(id: "k2") + "\n").write(
            toFile: keyFile + ".2", atomically: true, encoding: .utf8)
        let old = try String(contentsOfFile: keyFile, encoding: .utf8)
        let newLine = try String(contentsOfFile: keyFile + ".2", encoding: .utf8).split(separator: "\n")[1]
        try (old + newLine + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        let rekeyed = try PostgresFixture.storage(config).store((any ArchiveStore).self)
        let changed = try await rekeyed.rekey()
        XCTAssertEqual(changed, 1)
        let again = try await rekeyed.rekey()
        XCTAssertEqual(again, 0)
        try (newLine + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        let onlyNew = try PostgresFixture.storage(config).store((any ArchiveStore).self)
        let reopened = try await onlyNew.raw(id: id)
        XCTAssertEqual(reopened, raw)
    }
}
