// The listing record: what `queue list` reads of each message without decoding
// its JSON. It must say what the entry says, in the end record and in state
// files, and files of earlier versions (no record) must list the same way.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceQueue

final class QueueListingTests: XCTestCase {
    var dir: String!

    override func setUp() { dir = NSTemporaryDirectory() + "sluice-listing-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// An entry with what a listing must carry through intact: a quoted local part, two routes, a held one.
    func makeEntry(sender: MailAddress?, body: String = "Subject: x\r\n\r\nhi\r\n") -> QueueEntry {
        let id = QueueID.generate()
        let a = MailAddress(localPart: "\"odd, one\"", domain: "Dest.Test")
        let b = MailAddress(localPart: "b", domain: "sub.r.test")
        let env = Envelope(
            queueID: id, sender: sender, recipients: [Recipient(address: a), Recipient(address: b)],
            client: ClientInfo(address: IPAddress("192.0.2.1"), listener: "mx"), receivedAt: Date(timeIntervalSince1970: 1_790_000_000.25))
        let plan = DeliveryPlan(routes: [
            Route(target: .relay(upstream: "smarthost"), recipients: [a]),
            Route(target: .store(directory: "/var/q"), recipients: [b], held: true, quarantine: "rule hold"),
        ])
        return QueueEntry(envelope: env, plan: plan, size: body.utf8.count, queuedAt: env.receivedAt)
    }

    func commit(_ store: QueueStore, _ entry: QueueEntry, body: String = "Subject: x\r\n\r\nhi\r\n") throws {
        try FileSystem.writeDurably(Array(body.utf8), to: store.spoolPath(for: entry.id))
        try store.commit(entry)
    }

    func testTheListingSaysWhatTheEntrySaysInEndRecordsAndStateFiles() throws {
        let store = try QueueStore(directory: dir)
        for sender in [MailAddress(localPart: "ünï", domain: "s.test"), nil] {
            var entry = makeEntry(sender: sender)
            try commit(store, entry)
            XCTAssertEqual(try store.listing(entry.id), QueueListing(entry))
            XCTAssertEqual(try store.listing(entry.id)?.state, .quarantined)
            // The JSON reads as before (the footer points past the record).
            XCTAssertEqual(try store.load(entry.id)?.envelope.recipients.count, 2)

            entry.routes[0].attempts = 3
            entry.routes[0].lastError = "451 4.4.1 line one\r\n\ttab \\ and \"quotes\""
            entry.nextAttempt = entry.queuedAt.addingTimeInterval(600)
            entry.held = true
            let changed = entry
            try store.modify(entry.id) { _ in .update(changed) }
            let listed = try XCTUnwrap(try store.listing(entry.id))
            XCTAssertEqual(listed, QueueListing(entry))
            XCTAssertEqual(listed.state, .held)
            XCTAssertEqual(listed.senderDescription, sender.map { "<\($0)>" } ?? "<>")
            XCTAssertEqual(listed.pendingDomains, ["dest.test", "sub.r.test"])
            XCTAssertEqual(try store.load(entry.id)?.routes[0].attempts, 3)
        }
        var seen: [QueueID] = []
        try store.forEachListingChunk(threads: 2) { chunk in seen += chunk.map(\.id) }
        XCTAssertEqual(seen, try store.ids())
    }

    /// Queue files and state files of earlier versions have no record: listed from their JSON.
    func testFilesWithoutARecordAreListedFromTheirJSON() throws {
        let store = try QueueStore(directory: dir)
        // A message whose last bytes look like a record's length: still not taken for one.
        let body = "Subject: x\r\n\r\n00000012\n"
        var entry = makeEntry(sender: MailAddress(localPart: "a", domain: "s.test"), body: body)
        var old = Array(body.utf8) + Array(try QueueStore.encoder.encode(entry)) + [10]
        old += Array(String(format: "%020d", entry.size).utf8) + Array(QueueStore.magic.utf8)
        try FileSystem.writeDurably(old, to: store.messagePath(for: entry.id))
        XCTAssertEqual(try store.listing(entry.id), QueueListing(entry))
        XCTAssertEqual(try store.load(entry.id)?.size, entry.size)

        entry.routes[0].attempts = 1
        try FileSystem.writeDurably(Array(try QueueStore.encoder.encode(entry)), to: store.statePath(for: entry.id))
        XCTAssertEqual(try store.listing(entry.id), QueueListing(entry))
        XCTAssertEqual(try store.load(entry.id)?.routes[0].attempts, 1)
    }

    /// A damaged record is not believed: the JSON decides.
    func testADamagedRecordFallsBackToTheJSON() throws {
        let store = try QueueStore(directory: dir)
        var entry = makeEntry(sender: MailAddress(localPart: "a", domain: "s.test"))
        try commit(store, entry)
        entry.routes[0].attempts = 2
        let changed = entry
        try store.modify(entry.id) { _ in .update(changed) }
        var state = try XCTUnwrap(FileManager.default.contents(atPath: store.statePath(for: entry.id)))
        state[state.startIndex + 20] ^= 0xFF  // inside the payload: its id no longer parses
        try state.write(to: URL(fileURLWithPath: store.statePath(for: entry.id)))
        let record = QueueListingRecord.encode(QueueListing(entry))
        XCTAssertNil(state.prefix(record.count).withUnsafeBytes { QueueStore.leadingRecord($0) })
        XCTAssertEqual(try store.listing(entry.id), QueueListing(entry))
    }

    func testRecordsRefuseTruncationAndTrailingBytes() {
        let entry = makeEntry(sender: nil)
        let record = QueueListingRecord.encode(QueueListing(entry))
        XCTAssertEqual(record.withUnsafeBytes { QueueListingRecord.decode($0) }, QueueListing(entry))
        for cut in [1, 9, record.count / 2, record.count - 1] {
            XCTAssertNil(Array(record.prefix(cut)).withUnsafeBytes { QueueListingRecord.decode($0) }, "cut at \(cut)")
        }
        XCTAssertNil((record + [0]).withUnsafeBytes { QueueListingRecord.decode($0) })
    }

    func testISOTimeMatchesFoundation() {
        for t in [0.0, 1_790_000_000.75, 951_782_400, 4_102_444_799] {
            let d = Date(timeIntervalSince1970: t)
            XCTAssertEqual(ISO8601Time.utc(d), d.formatted(.iso8601))
        }
    }
}
