// The queue's on-disk discipline: commit, load, update, remove, recovery.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceQueue

final class QueueStoreTests: XCTestCase {
    var dir: String!

    override func setUp() {
        dir = NSTemporaryDirectory() + "sluice-queue-\(UUID().uuidString)"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func makeEntry(_ store: QueueStore, body: String = "Subject: x\r\n\r\nhi\r\n") throws -> QueueEntry {
        let id = QueueID.generate()
        try FileSystem.writeDurably(Array(body.utf8), to: store.spoolPath(for: id))  // as the SMTP handler spools it
        let env = Envelope(
            queueID: id, sender: MailAddress(localPart: "a", domain: "s.test"),
            recipients: [Recipient(address: MailAddress(localPart: "b", domain: "r.test"), notify: [.failure])],
            client: ClientInfo(address: IPAddress("127.0.0.1"), listener: "relay"))
        let plan = DeliveryPlan(routes: [Route(target: .store(directory: "/tmp/out"), recipients: env.recipients.map(\.address))])
        return QueueEntry(envelope: env, plan: plan, size: body.utf8.count, queuedAt: Date())
    }

    func testCommitLoadUpdateRemove() throws {
        let store = try QueueStore(directory: dir)
        var entry = try makeEntry(store)
        try store.commit(entry)
        XCTAssertFalse(FileSystem.exists(store.spoolPath(for: entry.id)))
        let file = FileManager.default.contents(atPath: store.messagePath(for: entry.id))!
        XCTAssertEqual(String(decoding: file.prefix(entry.size), as: UTF8.self), "Subject: x\r\n\r\nhi\r\n")
        XCTAssertTrue(String(decoding: file.suffix(16), as: UTF8.self) == " SLUICE-QUEUE-1\n")
        let loaded = try XCTUnwrap(try store.load(entry.id))
        XCTAssertEqual(loaded.envelope.recipients.first?.notify, [.failure])
        XCTAssertEqual(loaded.routes.count, 1)
        entry.held = true
        entry.routes[0].attempts = 2
        try store.update(entry)
        XCTAssertEqual(try store.load(entry.id)?.held, true)
        XCTAssertEqual(try store.load(entry.id)?.attempts, 2)
        XCTAssertEqual(store.ids(), [entry.id])
        try store.remove(entry.id)
        XCTAssertNil(try store.load(entry.id))
        XCTAssertFalse(FileSystem.exists(store.messagePath(for: entry.id)))
        XCTAssertFalse(FileSystem.exists(store.statePath(for: entry.id)))
    }

    func testCommitRefusesASizeMismatch() throws {
        let store = try QueueStore(directory: dir)
        var entry = try makeEntry(store)
        entry.size += 1
        XCTAssertThrowsError(try store.commit(entry))
        XCTAssertEqual(store.ids(), [])
    }

    func testRecoveryRemovesUnfinishedWorkAndKeepsCommitted() throws {
        let store = try QueueStore(directory: dir)
        let committed = try makeEntry(store)
        try store.commit(committed)
        // A message being received when the process died...
        let inFlight = try makeEntry(store)
        // ...and a queue file damaged so that its end record is gone.
        let damaged = try makeEntry(store)
        try FileSystem.rename(store.spoolPath(for: damaged.id), store.messagePath(for: damaged.id))
        let actions = try QueueStore(directory: dir).recover()
        XCTAssertTrue(actions.contains("removed tmp/\(inFlight.id)"), "\(actions)")
        XCTAssertTrue(actions.contains { $0.hasPrefix("moved active/\(damaged.id) to corrupt/") }, "\(actions)")
        XCTAssertEqual(store.ids(), [committed.id])
        XCTAssertTrue(FileSystem.exists(store.messagePath(for: committed.id)))
        XCTAssertTrue(FileSystem.exists(dir + "/corrupt/\(damaged.id)"))
    }

    func testGroupCommitUnderConcurrency() throws {
        let store = try QueueStore(directory: dir)
        let entries = try (0..<64).map { _ in try makeEntry(store) }
        DispatchQueue.concurrentPerform(iterations: entries.count) { i in
            try! store.commit(entries[i])
        }
        XCTAssertEqual(Set(store.ids()), Set(entries.map(\.id)))
    }
}
