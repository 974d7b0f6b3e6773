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
        try FileSystem.writeDurably(Array(body.utf8), to: store.spoolPath(for: id))
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
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: store.messagePath(for: entry.id))!, as: UTF8.self), "Subject: x\r\n\r\nhi\r\n")
        let loaded = try XCTUnwrap(try store.load(entry.id))
        XCTAssertEqual(loaded.envelope.recipients.first?.notify, [.failure])
        XCTAssertEqual(loaded.routes.count, 1)
        entry.held = true
        try store.update(entry)
        XCTAssertEqual(try store.load(entry.id)?.held, true)
        XCTAssertEqual(store.ids(), [entry.id])
        try store.remove(entry.id)
        XCTAssertNil(try store.load(entry.id))
        XCTAssertFalse(FileSystem.exists(store.messagePath(for: entry.id)))
    }

    func testRecoveryRemovesUnfinishedWorkAndKeepsCommitted() throws {
        let store = try QueueStore(directory: dir)
        let committed = try makeEntry(store)
        try store.commit(committed)
        // A message being received when the process died...
        let inFlight = try makeEntry(store)
        // ...and one whose commit stopped after the message rename, before the envelope.
        let half = try makeEntry(store)
        try FileSystem.rename(store.spoolPath(for: half.id), store.messagePath(for: half.id))
        let removed = try QueueStore(directory: dir).recover()
        XCTAssertEqual(Set(removed), ["tmp/\(inFlight.id).eml", "messages/\(half.id).eml"])
        XCTAssertEqual(store.ids(), [committed.id])
        XCTAssertTrue(FileSystem.exists(store.messagePath(for: committed.id)))
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
