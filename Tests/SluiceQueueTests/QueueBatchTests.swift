// Changes made a batch at a time (an operator's retry of a whole backlog):
// each message as `modify` would leave it, none of the batch changed when a
// change fails, and no temporary file left behind. Notices: what a command
// tells the daemon it changed, taken once.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceQueue

final class QueueBatchTests: XCTestCase {
    var dir: String!

    override func setUp() { dir = NSTemporaryDirectory() + "sluice-batch-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func queue(_ store: QueueStore, _ n: Int) throws -> [QueueID] {
        try (0..<n).map { _ in
            let id = QueueID.generate()
            let rcpt = MailAddress(localPart: "b", domain: "r.test")
            let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
            let entry = QueueEntry(
                envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
                plan: DeliveryPlan(routes: [Route(target: .store(directory: "/tmp/out"), recipients: [rcpt])]), size: body.count,
                queuedAt: Date(timeIntervalSince1970: 1000))
            try store.submit(body, entry)
            return id
        }
    }

    func testABatchChangesEachMessageAsModifyWould() throws {
        let store = try QueueStore(directory: dir)
        let ids = try queue(store, 5)
        try store.remove(ids[4])
        let later = Date(timeIntervalSince1970: 5000)
        let after = try store.modify(batch: ids) { e in
            if e.id == ids[0] { return .keep }
            if e.id == ids[1] { return .remove }
            var e = e
            e.nextAttempt = later
            return .update(e)
        }
        XCTAssertEqual(after.map(\.id), ids)
        XCTAssertNotNil(after[0].entry)
        XCTAssertNil(after[1].entry, "removed")
        XCTAssertNil(after[4].entry, "not queued")
        XCTAssertEqual(try store.load(ids[2])?.nextAttempt, later)
        XCTAssertEqual(try store.load(ids[3])?.nextAttempt, later)
        XCTAssertNil(try store.load(ids[1]))
        XCTAssertEqual(try store.load(ids[0])?.nextAttempt, Date(timeIntervalSince1970: 1000))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), [], "no temporary file left")
    }

    func testAFailingChangeLeavesTheWholeBatchAsItWas() throws {
        let store = try QueueStore(directory: dir)
        let ids = try queue(store, 3)
        struct Refused: Error {}
        XCTAssertThrowsError(
            try store.modify(batch: ids) { e in
                guard e.id != ids[2] else { throw Refused() }
                var e = e
                e.held = true
                return .update(e)
            })
        for id in ids { XCTAssertEqual(try store.load(id)?.held, false) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), [])
    }

    func testNoticesAreTakenOnceInOrder() throws {
        let store = try QueueStore(directory: dir)
        XCTAssertNil(try store.takeNotices(), "no notice: the daemon reads the whole queue")
        let ids = try queue(store, 3)
        try store.postNotice([ids[0], ids[1]])
        try store.postNotice([ids[2]])
        try store.postNotice([ids[1]], kind: .retry)
        try store.postNotice([], kind: .retryAll)
        XCTAssertEqual(try store.takeNotices(), QueueStore.Notices(changed: ids, retry: [ids[1]], retryAll: true))
        XCTAssertNil(try store.takeNotices())
    }

    /// A state file whose message is gone: left by recovery (which reads tmp/ only, to listen sooner), swept by the
    /// queue manager's first index from the ids it listed.
    func testStrayStatesAreSweptFromTheListingNotAtRecovery() throws {
        let store = try QueueStore(directory: dir)
        let ids = try queue(store, 2)
        try store.modify(ids[0]) { e in
            var e = e
            e.held = true
            return .update(e)
        }
        let stray = QueueID.generate()
        try Data("{}".utf8).write(to: URL(fileURLWithPath: store.statePath(for: stray)))
        XCTAssertEqual(try store.recover(), [])
        XCTAssertTrue(FileSystem.exists(store.statePath(for: stray)))
        XCTAssertEqual(try store.removeStrayStates(committed: try store.ids()), ["removed state/\(stray).json"])
        XCTAssertFalse(FileSystem.exists(store.statePath(for: stray)))
        XCTAssertTrue(FileSystem.exists(store.statePath(for: ids[0])), "a committed message's state stays")
    }
}
