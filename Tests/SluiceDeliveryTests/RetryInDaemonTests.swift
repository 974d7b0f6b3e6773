// `queue retry` with the daemon running (issue 33): the manager makes the
// messages due now in memory — an hour early, and past a route's "not
// before" — and nothing in the queue directory is written until the attempt
// itself; a held message stays held; "retry all" reaches every waiting
// message, through the same notice a command in another process leaves.

import Foundation
import Logging
import NIOPosix
import SluiceCore
import SluiceQueue
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

final class RetryInDaemonTests: XCTestCase {
    /// Every file of the queue directory and its bytes.
    func snapshot(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for sub in ["active", "state"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(sub)")) ?? [] {
                out["\(sub)/\(name)"] = FileManager.default.contents(atPath: "\(dir)/\(sub)/\(name)")
            }
        }
        return out
    }

    func testARetryIsMadeInMemoryAndTheAttemptWritesTheState() async throws {
        let target = GateTarget()
        let f = try ManagerFixture(self, target: target, retry: 3600)
        let (dir, io, clock, store, manager) = (f.dir, f.io, f.clock, f.store, f.manager)
        let rcpt = MailAddress(localPart: "b", domain: "r.test")
        func queue(held: Bool) throws -> QueueID {
            let id = QueueID.generate()
            let body = Array("Subject: later\r\n\r\nhi\r\n".utf8)
            var entry = QueueEntry(
                envelope: Envelope(queueID: id, sender: nil, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: nil, listener: "t")),
                plan: DeliveryPlan(routes: [Route(target: .store(directory: dir + "/out"), recipients: [rcpt])]), size: body.count,
                queuedAt: clock.now())
            // Deferred an hour, and its route told "not before" an hour from now.
            entry.nextAttempt = clock.now().addingTimeInterval(3600)
            entry.routes[0].notBefore = clock.now().addingTimeInterval(3600)
            entry.held = held
            try store.submit(body, entry)
            return id
        }
        let waiting = try queue(held: false)
        let held = try queue(held: true)
        let later = try queue(held: false)
        let running = Task { await manager.run() }
        let deadline = Date().addingTimeInterval(20)
        while await !manager.indexed && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(target.begun.withLockedValue { $0 }, 0, "nothing due for an hour")
        let before = snapshot(dir)

        await manager.retryNow([waiting, held])
        while target.begun.withLockedValue({ $0 }) == 0 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(target.begun.withLockedValue { $0 }, 1, "the waiting message is attempted now; the held one is not")
        XCTAssertEqual(snapshot(dir), before, "no queue file was written for the retry")

        // "Retry all", as `sluice queue retry --all` leaves it for the daemon.
        try store.postNotice([], kind: .retryAll)
        await manager.changedElsewhere()
        while target.begun.withLockedValue({ $0 }) < 2 && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertEqual(target.begun.withLockedValue { $0 }, 2, "the other waiting message too, the held one still not")
        target.open()
        while (FileManager.default.fileExists(atPath: store.messagePath(for: waiting))
            || FileManager.default.fileExists(atPath: store.messagePath(for: later))) && Date() < deadline
        {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.messagePath(for: waiting)), "delivered")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.messagePath(for: later)), "delivered")
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.messagePath(for: held)), "held stays")
        await manager.stop()
        await running.value
        try await io.shutdownGracefully()
    }
}
