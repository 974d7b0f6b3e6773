// Archive retention on the one clock: the purge service removes what its
// archive's retention says is past, as the injected clock moves (no waiting),
// keeps permanent archives and legal holds, and a purge that fails is logged
// (and counted), not silent.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceStoreContracts
import SluiceTestSupport
import XCTest

@testable import SluiceArchive

/// Keeps the messages of every log event.
final class LogLines: @unchecked Sendable {
    let lines = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(lines: self.lines) }
    }

    struct Handler: LogHandler {
        let lines: NIOLockedValueBox<[String]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            lines.withLockedValue { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}

/// A store whose purge fails (a database that is locked or gone).
struct FailingPurgeStore: ArchiveStore {
    struct Locked: Error {}
    func add(_ entries: [ArchiveEntry]) async throws {}
    func search(_ query: ArchiveQuery) async throws -> [ArchivedMessage] { [] }
    func count(_ query: ArchiveQuery) async throws -> Int { 0 }
    func message(id: Int64) async throws -> ArchivedMessage? { nil }
    func raw(id: Int64) async throws -> [UInt8]? { nil }
    func purge(before cutoffs: [String: Date], batch: Int) async throws -> Int { throw Locked() }
    func delete(ids: [Int64]) async throws -> Int { 0 }
    func setHold(ids: [Int64], held: Bool) async throws -> Int { 0 }
    func rekey() async throws -> Int { 0 }
    func stats() async throws -> [ArchiveStats] { [] }
}

final class ArchiveRetentionTests: XCTestCase {
    var dir = ""
    var io: NIOThreadPool!

    override func setUp() {
        dir = NSTemporaryDirectory() + "archive-retention-\(UUID().uuidString)"
        io = NIOThreadPool(numberOfThreads: 1)
        io.start()
    }

    override func tearDown() {
        try? io.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func entry(_ id: String, archive: String, at date: Date) -> ArchiveEntry {
        ArchiveEntry(
            archive: archive, queueID: id, receivedAt: date, sender: "a@example.test", recipients: ["b@example.org"], from: "a@example.test",
            to: "b@example.org", cc: "", subject: id, messageID: "<\(id)@t>", attachments: [], dlpSummary: "", authSummary: "", bodyText: id,
            raw: Array("Subject: \(id)\r\n\r\nx\r\n".utf8))
    }

    func testRetentionFollowsTheInjectedClock() async throws {
        let clock = ManualClock()
        let now = clock.now()
        let store = EmbeddedArchiveStore(path: dir + "/archive.sqlite", keyFile: nil, io: io)
        try await store.add([
            entry("OLD", archive: "default", at: now.addingTimeInterval(-40 * 86400)),
            entry("RECENT", archive: "default", at: now.addingTimeInterval(-10 * 86400)),
            entry("LEGAL", archive: "legal", at: now.addingTimeInterval(-400 * 86400)),
        ])
        let archives = ["default": ArchiveSettings(name: "default", retention: 30 * 86400), "legal": ArchiveSettings(name: "legal", retention: nil)]
        let log = LogLines()
        let service = ArchivePurgeService(store: store, archives: { archives }, clock: clock, logger: log.logger)
        let removedNow = await service.purgeOnce()
        XCTAssertEqual(removedNow, 1)
        let left = try await store.search(ArchiveQuery()).map(\.queueID)
        XCTAssertEqual(Set(left), ["RECENT", "LEGAL"])
        // 25 days on, by the clock: RECENT is 35 days old.
        clock.advance(by: 25 * 86400)
        let removedLater = await service.purgeOnce()
        XCTAssertEqual(removedLater, 1)
        let kept = try await store.search(ArchiveQuery()).map(\.queueID)
        XCTAssertEqual(kept, ["LEGAL"], "a permanent archive keeps everything")
        XCTAssertTrue(log.lines.withLockedValue { $0 }.contains { $0.contains("archive retention: messages purged") })
    }

    func testAFailingPurgeIsLoggedNotSilent() async throws {
        let log = LogLines()
        let service = ArchivePurgeService(
            store: FailingPurgeStore(), archives: { ["default": ArchiveSettings(name: "default", retention: 86400)] }, clock: ManualClock(),
            logger: log.logger)
        let removed = await service.purgeOnce()
        XCTAssertEqual(removed, 0)
        let lines = log.lines.withLockedValue { $0 }
        XCTAssertTrue(lines.contains { $0.hasPrefix("error archive retention: purge failed") && $0.contains("Locked") }, "\(lines)")
    }
}

final class EmbeddedArchiveStoreTests: XCTestCase {
    func testTheEmbeddedStorePassesTheContract() async throws {
        let dir = NSTemporaryDirectory() + "archive-contract-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        var n = 0
        try await ArchiveStoreContract {
            n += 1
            return EmbeddedArchiveStore(path: "\(dir)/archive-\(n).sqlite", keyFile: nil, io: io)
        }.run()
        // Reading and purging make no file; the first message does.
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(dir)/archive-2.sqlite"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/archive-1.sqlite"), "an empty store reads as empty and makes no file")
        try await io.shutdownGracefully()
    }
}
