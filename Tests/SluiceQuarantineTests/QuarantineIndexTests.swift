// The embedded quarantine index passes the contract, and the indexer keeps it
// following the queue: a quarantined message is recorded with its rule, held
// recipients, verdicts and subject; a release forgets it; a rebuild from the
// queue records what is held and forgets what is not.

import Foundation
import Logging
import SluiceCore
import SluiceQueue
import SluiceStoreContracts
import XCTest

@testable import SluiceQuarantine

final class QuarantineIndexTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = NSTemporaryDirectory() + "sluice-quarantine-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTheSQLiteIndexPassesTheContract() async throws {
        var n = 0
        try await QuarantineIndexContract {
            n += 1
            return try SQLiteQuarantineIndex(path: "\(self.dir)/q\(n).sqlite")
        }.run()
    }

    func held(_ store: QueueStore) throws -> QueueEntry {
        let id = QueueID.generate()
        let body = "Subject: =?UTF-8?Q?card_n=C2=B0?=\r\n\r\n4111 1111 1111 1111\r\n"
        let (a, b) = (MailAddress(localPart: "a", domain: "r.test"), MailAddress(localPart: "b", domain: "r.test"))
        let env = Envelope(
            queueID: id, sender: MailAddress(localPart: "app", domain: "example.test"), recipients: [Recipient(address: a), Recipient(address: b)],
            client: ClientInfo(address: IPAddress("127.0.0.1"), listener: "relay"))
        var entry = QueueEntry(
            envelope: env,
            plan: DeliveryPlan(routes: [
                Route(target: .relay(upstream: "mx"), recipients: [a, b], held: true, quarantine: "rule hold-cards (when dlp profile pci found: yes)")
            ]), size: body.utf8.count, queuedAt: Date(timeIntervalSince1970: 1_800_000_000))
        var inspection = InspectionResults()
        inspection.profiles["pci"] = DLPProfileCount(count: 1, minCount: 1)
        entry.results = MessageVerdicts(inspection: inspection)
        try store.submit(Array(body.utf8), entry)
        return entry
    }

    func testTheIndexerFollowsTheQueueAndRebuildsFromIt() async throws {
        let store = try QueueStore(directory: dir + "/queue")
        let index = try SQLiteQuarantineIndex(path: dir + "/quarantine.sqlite")
        let indexer = QuarantineIndexer(index: index, queue: store, node: "mx1", logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let entry = try held(store)
        await indexer.queued(entry)
        let recorded = try await index.record(for: entry.id)
        XCTAssertEqual(recorded?.reasons, ["rule hold-cards (when dlp profile pci found: yes)"])
        XCTAssertEqual(recorded?.recipients, ["a@r.test", "b@r.test"])
        XCTAssertEqual(recorded?.verdicts["inspection"], "pci=1")
        XCTAssertEqual(recorded?.subject, "card n°")
        // Released: no longer held.
        var released = entry
        released.routes[0].route.held = false
        await indexer.changed(entry.id, to: released)
        let afterRelease = try await index.record(for: entry.id)
        XCTAssertNil(afterRelease)
        // A record the queue does not hold (from before a crash) goes, and what the queue holds comes back.
        try await index.record(QuarantineRecord(entry, node: "mx1", subject: "stale"))
        let other = try held(store)
        try await index.record(
            QuarantineRecord(
                queueID: QueueID.generate(), node: "mx1", queuedAt: Date(), sender: "<>", subject: "", size: 1, recipients: [], reasons: [], verdicts: [:]))
        try await index.record(
            QuarantineRecord(
                queueID: QueueID.generate(), node: "mx2", queuedAt: Date(), sender: "<>", subject: "", size: 1, recipients: [], reasons: [], verdicts: [:]))
        try await indexer.rebuild()
        let mine = try await index.ids(node: "mx1")
        XCTAssertEqual(Set(mine), [entry.id, other.id], "the queue's held messages, and nothing else of this node")
        let theirs = try await index.ids(node: "mx2")
        XCTAssertEqual(theirs.count, 1, "another node's records are its own")
    }
}
