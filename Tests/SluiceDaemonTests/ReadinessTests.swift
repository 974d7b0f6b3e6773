// /readyz: not ready until the listeners are bound and rules loaded, not ready
// while stopping or when the queue cannot be written.

import Foundation
import XCTest

import SluiceCore
@testable import SluiceDaemon

final class ReadinessTests: XCTestCase {
    func testReadinessFollowsTheDaemonsLife() throws {
        let dir = NSTemporaryDirectory() + "sluice-ready-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = Readiness(queueDirectory: dir)
        XCTAssertEqual(r.notReadyReason, "SMTP listeners not bound yet")
        r.listenersBound()
        XCTAssertEqual(r.notReadyReason, "rules not loaded")
        r.rulesLoaded()
        XCTAssertNil(r.notReadyReason)
        r.stopping()
        XCTAssertEqual(r.notReadyReason, "shutting down")
        let missing = Readiness(queueDirectory: dir + "/nope")
        missing.listenersBound()
        missing.rulesLoaded()
        XCTAssertEqual(missing.notReadyReason, "queue directory not writable")
    }

    func testSystemdNotifierIsSilentWithoutSocket() {
        XCTAssertTrue(SystemdNotifier(environment: [:]).notify("READY=1"))
        XCTAssertFalse(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/socket"]).notify("READY=1"))
    }

    func testJSONLogTimestamp() {
        XCTAssertEqual(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_795_772_467.125)), "2026-11-27T09:41:07.125Z")
        XCTAssertEqual(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)), "1970-01-01T00:00:00.000Z")
    }

    func testJSONLogQuoting() {
        XCTAssertEqual(JSONLogHandler.quote("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"")
    }
}

final class DeadlineTests: XCTestCase {
    struct TimedOut: Error {}

    func testDeadlineAnswersOnTimeWithoutWaitingForTheWork() async throws {
        // The work waits for a gate the test opens only after the deadline has answered.
        let gate = AsyncStream<Void>.makeStream()
        do {
            _ = try await withDeadline(seconds: 0.1, onTimeout: { TimedOut() }) { () async throws -> Int in
                for await _ in gate.stream { break }
                return 1
            }
            XCTFail("no timeout")
        } catch is TimedOut {
            gate.continuation.yield()
        }
        gate.continuation.finish()
        let value = try await withDeadline(seconds: 5, onTimeout: { TimedOut() }) { 42 }
        XCTAssertEqual(value, 42)
    }
}
