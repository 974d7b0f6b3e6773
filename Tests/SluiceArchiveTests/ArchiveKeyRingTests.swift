// Encryption at rest: message bytes sealed with AES-256-GCM under the key
// file's newest key, opened with any key of the file; a store without the key
// says why it cannot read; rotation (a new key, rekey, the old key removed)
// keeps every message readable; a malformed key file names its line.

import Foundation
import GRDB
import XCTest

@testable import SluiceArchive

final class ArchiveKeyRingTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "archive-k-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func entry(_ id: String, body: String) -> ArchiveEntry {
        ArchiveEntry(
            archive: "default", queueID: id, receivedAt: Date(), sender: "a@example.test", recipients: ["b@example.org"], from: "a@example.test",
            to: "b@example.org", cc: "", subject: "s \(id)", messageID: "<\(id)@t>", attachments: [], dlpSummary: "", authSummary: "",
            bodyText: body, raw: Array("Subject: s \(id)\r\n\r\n\(body)\r\n".utf8))
    }

    func keyFile(_ lines: [String]) throws -> String {
        let path = dir + "/archive.keys"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func bodies(_ path: String) throws -> [[UInt8]] {
        try DatabaseQueue(path: path).read { db in try Data.fetchAll(db, sql: "SELECT body FROM message ORDER BY id").map { [UInt8]($0) } }
    }

    func testSealedAtRestOpenedWithTheKeyAndRotated() throws {
        let db = dir + "/archive.sqlite"
        // A message archived before encryption was turned on stays readable.
        try SQLiteArchiveStore(path: db).add([entry("P1", body: "plain before encryption")])
        let old = ArchiveKeyRing.newKeyLine(id: "old")
        var store = try SQLiteArchiveStore(path: db, keys: try ArchiveKeyRing.load(file: try keyFile([old])))
        try store.add([entry("S1", body: "sealed with old")])
        var stored = try bodies(db)
        XCTAssertFalse(ArchiveKeyRing.isSealed(stored[0]))
        XCTAssertEqual(ArchiveKeyRing.keyID(of: stored[1]), "old")
        let ids = try store.search(ArchiveQuery()).map(\.id).sorted()
        XCTAssertEqual(try store.raw(id: ids[1]), Array("Subject: s S1\r\n\r\nsealed with old\r\n".utf8))
        XCTAssertEqual(try store.raw(id: ids[0]), Array("Subject: s P1\r\n\r\nplain before encryption\r\n".utf8))
        var q = ArchiveQuery()
        q.text = "sealed"
        XCTAssertEqual(try store.search(q).count, 1, "the index stays searchable")

        // Without the key file the sealed message says why it cannot be read.
        XCTAssertThrowsError(try SQLiteArchiveStore(path: db).raw(id: ids[1])) { XCTAssertTrue("\($0)".contains("no key_file"), "\($0)") }

        // Rotation: a new key seals new messages; rekey seals the rest; then the old key can go.
        let new = ArchiveKeyRing.newKeyLine(id: "new")
        store = try SQLiteArchiveStore(path: db, keys: try ArchiveKeyRing.load(file: try keyFile([old, new])))
        try store.add([entry("S2", body: "sealed with new")])
        XCTAssertEqual(try store.rekey(), 2, "the plain one and the one under the old key")
        XCTAssertEqual(try store.rekey(), 0)
        stored = try bodies(db)
        XCTAssertEqual(stored.map { ArchiveKeyRing.keyID(of: $0) }, ["new", "new", "new"])
        store = try SQLiteArchiveStore(path: db, keys: try ArchiveKeyRing.load(file: try keyFile([new])))
        for id in try store.search(ArchiveQuery()).map(\.id) { XCTAssertNotNil(try store.raw(id: id)) }

        // A key file that lost the key a message needs names the key.
        let other = try SQLiteArchiveStore(path: db, keys: try ArchiveKeyRing.load(file: try keyFile([ArchiveKeyRing.newKeyLine(id: "other")])))
        XCTAssertThrowsError(try other.raw(id: ids[1])) { XCTAssertTrue("\($0)".contains("key 'new'"), "\($0)") }
    }

    func testAMalformedKeyFileNamesItsLine() throws {
        let path = try keyFile(["# archive keys", ArchiveKeyRing.newKeyLine(id: "a"), "b notbase64!"])
        XCTAssertThrowsError(try ArchiveKeyRing.load(file: path)) { XCTAssertTrue("\($0)".contains("archive.keys:3:"), "\($0)") }
        XCTAssertThrowsError(try ArchiveKeyRing.load(file: try keyFile(["# nothing"]))) { XCTAssertTrue("\($0)".contains("no key"), "\($0)") }
    }
}
