// The outbound connection pool with the manual clock: a connection carries
// the next message while it is younger than the reuse limit and is retired
// with QUIT after it; connections the pool has no room for end with QUIT
// too, never dropped (RFC 5321 §4.1.1.10).

import Foundation
import NIOCore
import NIOPosix
import SluiceCore
import SluiceTestSupport
import XCTest

@testable import SluiceDelivery

final class ConnectionPoolTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var io: NIOThreadPool!
    var dir = ""

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pool-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try await group.shutdownGracefully()
        try await io.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func message() -> OutgoingMessage {
        let body = Array("From: a@example.test\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/m", contents: Data(body)))
        return OutgoingMessage(
            envelope: Envelope(
                queueID: QueueID.generate(), sender: MailAddress(localPart: "a", domain: "example.test"),
                recipients: [Recipient(address: recipient)], client: ClientInfo(address: nil, listener: "test")),
            prependedHeaders: [], bodyPath: dir + "/m", bodyLength: body.count)
    }

    let recipient = MailAddress(localPart: "b", domain: "example.org")

    func waitFor(_ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while !condition() && Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        return condition()
    }

    func testAConnectionPastTheReuseLimitIsRetiredWithQuit() async throws {
        let sink = try await LoopbackSink.start(group: group)
        let clock = ManualClock()
        let pool = SMTPConnectionPool(idleLimit: 3600, reuseLimit: 300, clock: clock)
        let deliverer = try SMTPDeliverer(heloName: "me.test", group: group, io: io, pool: pool)
        let host = SMTPClient.Endpoint(host: "127.0.0.1", port: sink.port)
        for _ in 0..<2 {
            let outcome = await deliverer.attempt(message(), to: [recipient], host: host, tls: .none)
            XCTAssertEqual(outcome.accepted, [recipient])
            clock.advance(by: 100)
        }
        XCTAssertEqual(sink.connections, 1, "the second message went on the first connection")
        clock.advance(by: 101)  // 301 s since it was opened
        let outcome = await deliverer.attempt(message(), to: [recipient], host: host, tls: .none)
        XCTAssertEqual(outcome.accepted, [recipient])
        XCTAssertEqual(sink.connections, 2)
        XCTAssertEqual(sink.messages, 3)
        let retired = try await waitFor { sink.quits == 1 }
        XCTAssertTrue(retired, "the old connection got QUIT: \(sink.quits)")
        let kept = try await waitFor { pool.idleCount == 1 }
        XCTAssertTrue(kept, "the new one is kept (parked after the outcome is handed back)")
        try await sink.channel.close()
    }

    func testConnectionsThePoolHasNoRoomForEndWithQuit() async throws {
        let sink = try await LoopbackSink.start(group: group)
        let pool = SMTPConnectionPool(idleLimit: 3600, maxIdle: 2, clock: ManualClock())
        let deliverer = try SMTPDeliverer(heloName: "me.test", group: group, io: io, pool: pool)
        let host = SMTPClient.Endpoint(host: "127.0.0.1", port: sink.port)
        let outgoing = message()
        let recipient = self.recipient
        // Six at once: six connections, two kept, four ended with QUIT.
        let accepted = await withTaskGroup(of: Bool.self) { tasks in
            for _ in 0..<6 {
                tasks.addTask { await deliverer.attempt(outgoing, to: [recipient], host: host, tls: .none).accepted == [recipient] }
            }
            return await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(accepted, 6)
        XCTAssertGreaterThan(sink.connections, 2, "more connections than the pool keeps")
        let ended = try await waitFor { sink.quits == sink.connections - 2 }
        XCTAssertTrue(ended, "\(sink.connections) connections, \(sink.quits) QUIT")
        let kept = try await waitFor { pool.idleCount == 2 }
        XCTAssertTrue(kept, "\(pool.idleCount) kept")
        try await sink.channel.close()
    }
}
