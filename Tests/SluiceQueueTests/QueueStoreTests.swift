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
        let changed = entry
        try store.modify(entry.id) { _ in .update(changed) }
        XCTAssertEqual(try store.load(entry.id)?.held, true)
        XCTAssertEqual(try store.load(entry.id)?.attempts, 2)
        XCTAssertEqual(try store.ids(), [entry.id])
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
        XCTAssertEqual(try store.ids(), [])
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
        let restarted = try QueueStore(directory: dir)
        let actions = try restarted.recover()
        XCTAssertTrue(actions.contains { $0.hasPrefix("removed tmp/\(inFlight.id) (a message being received, never committed") }, "\(actions)")
        // Committed files are checked as the queue manager indexes them, after the listeners opened.
        XCTAssertNil(try restarted.setAsideIfCorrupt(committed.id))
        let setAside = try restarted.setAsideIfCorrupt(damaged.id)
        XCTAssertTrue(setAside?.hasPrefix("moved active/\(damaged.id) to corrupt/") ?? false, "\(setAside ?? "nil")")
        XCTAssertEqual(try store.ids(), [committed.id])
        XCTAssertTrue(FileSystem.exists(store.messagePath(for: committed.id)))
        XCTAssertTrue(FileSystem.exists(dir + "/corrupt/\(damaged.id)"))
    }

    /// The commit does not fsync active/ after the rename: if a crash loses the rename, the complete, fsync'd file
    /// is in tmp/ and recovery finishes the commit when its checksum matches; a file whose bytes do not match
    /// (its fsync was cut short: the client never got the 250) is removed.
    func testRecoveryFinishesACommitWhoseRenameWasLost() throws {
        let store = try QueueStore(directory: dir)
        let entry = try makeEntry(store, body: "Subject: kept\r\n\r\nevery byte\r\n")
        try store.commit(entry)
        XCTAssertNotNil(try store.load(entry.id)?.checksum, "the end record carries the message's CRC-32")
        // The rename never reached the disk.
        try FileSystem.rename(store.messagePath(for: entry.id), store.spoolPath(for: entry.id))
        // A second one whose bytes were not all written before the crash.
        let torn = try makeEntry(store, body: "Subject: torn\r\n\r\nhalf\r\n")
        try store.commit(torn)
        try FileSystem.rename(store.messagePath(for: torn.id), store.spoolPath(for: torn.id))
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: store.spoolPath(for: torn.id)))
        try handle.seek(toOffset: 17)
        handle.write(Data([0, 0, 0, 0]))
        try handle.close()

        let actions = try QueueStore(directory: dir).recover()
        XCTAssertTrue(actions.contains("completed the commit of tmp/\(entry.id) (its move into active/ was lost)"), "\(actions)")
        XCTAssertTrue(actions.contains("removed tmp/\(torn.id) (its bytes do not match the checksum (a torn write))"), "\(actions)")
        let reopened = try QueueStore(directory: dir)
        XCTAssertEqual(try reopened.ids(), [entry.id])
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: reopened.messagePath(for: entry.id)))
        XCTAssertEqual(String(decoding: bytes.prefix(entry.size), as: UTF8.self), "Subject: kept\r\n\r\nevery byte\r\n")
        XCTAssertEqual(try reopened.load(entry.id)?.routes.count, 1)
    }

    func testGroupCommitUnderConcurrency() throws {
        let store = try QueueStore(directory: dir)
        let entries = try (0..<64).map { _ in try makeEntry(store) }
        DispatchQueue.concurrentPerform(iterations: entries.count) { i in
            try! store.commit(entries[i])
        }
        XCTAssertEqual(Set(try store.ids()), Set(entries.map(\.id)))
    }

    /// An unreadable state file is never skipped: the next modify moves it to corrupt/, says so, and the
    /// message goes on from its end record.
    func testAnUnreadableStateFileIsSetAsideAndTheMessageGoesOn() throws {
        let seen = LockedStrings()
        let store = try QueueStore(directory: dir) { id, why in seen.add("\(id): \(why)") }
        let entry = try makeEntry(store)
        try store.commit(entry)
        try FileSystem.writeDurably(Array("{ not json".utf8), to: store.statePath(for: entry.id))
        XCTAssertThrowsError(try store.load(entry.id))
        XCTAssertTrue(try store.entries().contains { $0.id == entry.id })
        let loaded = try XCTUnwrap(try store.modify(entry.id) { _ in .keep })
        XCTAssertEqual(loaded.id, entry.id)
        XCTAssertEqual(try store.corruptFiles().map(\.name), ["\(entry.id).state.json"])
        XCTAssertTrue(seen.all.first?.contains("moved to corrupt/\(entry.id).state.json") ?? false, "\(seen.all)")
        XCTAssertNotNil(try store.load(entry.id))
    }

    /// Many writers of one message's state at once (threads here, processes in the CLI): every change counts.
    func testConcurrentModificationsLoseNothing() throws {
        let store = try QueueStore(directory: dir)
        let entry = try makeEntry(store)
        try store.commit(entry)
        DispatchQueue.concurrentPerform(iterations: 200) { _ in
            try! store.modify(entry.id) { e in
                var e = e
                e.routes[0].attempts += 1
                return .update(e)
            }
        }
        XCTAssertEqual(try store.load(entry.id)?.routes[0].attempts, 200)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), [])
    }
}

final class LockedStrings: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

extension QueueStoreTests {
    /// A queue directory that cannot be read is an error everywhere it is read, never an empty queue.
    func testAnUnreadableQueueDirectoryIsAnErrorNotAnEmptyQueue() throws {
        let store = try QueueStore(directory: dir)
        try store.commit(try makeEntry(store))
        // Root reads any directory whatever its mode: a file where active/ should be cannot be listed by anyone.
        try FileManager.default.removeItem(atPath: dir + "/active")
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: dir + "/active"))
        XCTAssertThrowsError(try store.ids()) { XCTAssertTrue("\($0)".contains("cannot read the queue directory"), "\($0)") }
        XCTAssertThrowsError(try store.entries())
        XCTAssertThrowsError(try store.recover())
        XCTAssertEqual(try store.corruptFiles().count, 0, "corrupt/ not made yet is empty, not an error")
    }
}
