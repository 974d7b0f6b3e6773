// --from and --to as index lookups: what each form means, the addresses
// found in header fields, domains with their subdomains, and an archive made
// before the address index (schema v4) filled in by the upgrade.

import Foundation
import GRDB
import XCTest

@testable import SluiceArchive

final class ArchiveAddressFilterTests: XCTestCase {
    func testFormsOfAnAddressFilter() {
        XCTAssertEqual(ArchiveAddressFilter("Alice@Example.TEST"), .address("alice@example.test"))
        XCTAssertEqual(ArchiveAddressFilter("@example.test"), .domain("example.test"))
        XCTAssertEqual(ArchiveAddressFilter("example.test"), .domain("example.test"))
        XCTAssertEqual(ArchiveAddressFilter("alice@"), .prefix("alice@"))
        XCTAssertEqual(ArchiveAddressFilter("alice"), .prefix("alice"))
        XCTAssertEqual(
            ArchiveAddressFilter.addresses(in: "\"Smith, Jane\" <Jane.Smith@Corp.test>, bob@x.test; <bob@x.test>"), ["jane.smith@corp.test", "bob@x.test"])
        XCTAssertEqual(ArchiveAddressFilter.addresses(in: "undisclosed-recipients:; @nodomain x@"), [])
        XCTAssertEqual(ArchiveAddressFilter.keys(role: "s", address: "alice@mail.corp.test"), ["s=alice@mail.corp.test", "s@mail.corp.test", "s@corp.test"])
        XCTAssertEqual(ArchiveAddressFilter("@corp.test").key(role: "r"), "r@corp.test")
        XCTAssertNil(ArchiveAddressFilter("alice").key(role: "r"))
    }

    func entry(_ id: String, sender: String, from: String, to: String, cc: String = "") -> ArchiveEntry {
        ArchiveEntry(
            archive: "default", queueID: id, receivedAt: Date(), sender: sender, recipients: ["rcpt@envelope.test"], from: from, to: to, cc: cc,
            subject: id, messageID: "<\(id)@t>", attachments: [], dlpSummary: "", authSummary: "", bodyText: "", raw: Array("Subject: x\r\n\r\n".utf8))
    }

    func ids(_ store: SQLiteArchiveStore, from: String? = nil, to: String? = nil) throws -> [String] {
        var q = ArchiveQuery()
        q.from = from
        q.to = to
        return try store.search(q).map(\.queueID).sorted()
    }

    func testSearchesBySenderAndRecipientSides() throws {
        let dir = NSTemporaryDirectory() + "archive-a-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteArchiveStore(path: dir + "/archive.sqlite")
        try store.add([
            entry("A1", sender: "bounce@mailer.corp.test", from: "Alice <alice@corp.test>", to: "bob@partner.test"),
            entry("A2", sender: "alice.smith@other.test", from: "alice.smith@other.test", to: "carol@sub.partner.test", cc: "Dan <dan@corp.test>"),
            entry("A3", sender: "zed@notcorp.test", from: "zed@notcorp.test", to: "erin@partnerx.test"),
        ])
        XCTAssertEqual(try ids(store, from: "alice@corp.test"), ["A1"], "From: counts, not only the envelope")
        XCTAssertEqual(try ids(store, from: "@corp.test"), ["A1"], "subdomains too (mailer.corp.test); notcorp.test is not one")
        XCTAssertEqual(try ids(store, from: "alice"), ["A1", "A2"], "a prefix")
        XCTAssertEqual(try ids(store, from: "alice@"), ["A1"], "a local part")
        XCTAssertEqual(try ids(store, to: "partner.test"), ["A1", "A2"])
        XCTAssertEqual(try ids(store, to: "dan@corp.test"), ["A2"], "Cc: counts")
        XCTAssertEqual(try ids(store, to: "rcpt@envelope.test"), ["A1", "A2", "A3"], "envelope recipients count")
        XCTAssertEqual(try ids(store, from: "corp.test", to: "erin@partnerx.test"), [])
        let first = try XCTUnwrap(try store.search(ArchiveQuery()).first { $0.queueID == "A1" })
        XCTAssertEqual(try store.delete(ids: [first.id]), 1)
        XCTAssertEqual(try ids(store, from: "@corp.test"), [], "a deleted message's addresses go with it")
    }

    func testAnArchiveFromBeforeTheAddressIndexIsFilledInByTheUpgrade() throws {
        let dir = NSTemporaryDirectory() + "archive-u-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/archive.sqlite"
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteArchiveStore.migrator.migrate(pool, upTo: "v4: legal hold")
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO message (archive, queue_id, received_at, sender, recipients, from_header, to_header, cc_header, subject,
                            message_id, size, attachments, dlp, auth, stored_size, body)
                        VALUES ('default', 'OLD1', 0, 'old@legacy.test', 'x@partner.test', 'Old <old@legacy.test>', 'x@partner.test', '', 's', '', 0, '', '', '', 0, x'')
                        """)
            }
        }
        let store = try SQLiteArchiveStore(path: path)
        XCTAssertEqual(try ids(store, from: "@legacy.test"), ["OLD1"])
        XCTAssertEqual(try ids(store, to: "x@partner.test"), ["OLD1"])
    }
}
