// The NIO glue of the SMTP server on an NIOAsyncTestingChannel (no socket):
// pipelined commands answered in order, a message spooled through the queue
// and handed to the receiver, BDAT, the command timeout on the test loop's
// clock, STARTTLS discarding what was pipelined before the handshake, and the
// stage a refusal is counted in.

import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOSSL
import SluiceCore
import SluiceQueue
import SluiceSMTP
import XCTest

@testable import SluiceServer

/// Accepts everything and keeps what it received.
final class RecordingReceiver: MessageReceiver, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var messages: [(Envelope, String)] = []
    private(set) var facts: [MessageVerdicts] = []
    var refusal: SMTPError?

    func receive(
        envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int, facts: MessageVerdicts, logger: Logger
    ) async throws -> QueueID {
        if let refusal { throw refusal }
        let text = String(decoding: FileManager.default.contents(atPath: spoolPath)?.prefix(size) ?? Data(), as: UTF8.self)
        lock.withLock {
            messages.append((envelope, text))
            self.facts.append(facts)
        }
        return envelope.queueID
    }
}

struct AllowAll: SessionCheck {}

/// Holds an object without keeping it alive.
final class WeakReference: @unchecked Sendable {
    weak var object: AnyObject?
}

/// A fact a session check records: where in the dialogue, about what.
struct SeenFact: Verdict, Equatable {
    static let name = "test_seen"
    var notes: [String]
}

/// Records a fact at each step, and refuses recipients at refused.test.
struct RecordingCheck: SessionCheck {
    func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {
        facts[SeenFact.self] = SeenFact(notes: ["connect \(client.address!)"])
    }

    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        facts[ScoreFact.self] = ScoreFact(points: 1, why: ["mail \(sender!)"])
    }

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        var score = facts[ScoreFact.self] ?? ScoreFact(points: 0, why: [])
        score.points += 1
        score.why.append("rcpt \(recipient)")
        facts[ScoreFact.self] = score
        if recipient.domain == "refused.test" { throw SMTPError(550, .init(5, 7, 1), "no") }
    }
}

struct ScoreFact: Verdict, Equatable {
    static let name = "test_score"
    var points: Int
    var why: [String]
}

final class SMTPServerHandlerTests: XCTestCase {
    var dir: String!
    var pool: NIOThreadPool!

    override func setUp() {
        dir = NSTemporaryDirectory() + "sluice-handler-\(UUID().uuidString)"
        pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
    }

    override func tearDown() {
        try? pool.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func channel(
        receiver: RecordingReceiver = RecordingReceiver(), tls: TLSContextHolder? = nil, commandTimeout: TimeAmount = .seconds(300),
        checks: any SessionCheck = AllowAll()
    ) async throws -> NIOAsyncTestingChannel {
        var session = SMTPServerSession.Configuration(
            hostname: "mx.test", maxMessageSize: 1 << 20, maxRecipients: 10, tlsAvailable: tls != nil, requireTLS: false)
        session.authRequiresTLS = true
        let context = ListenerContext(
            name: "test", session: session, checks: checks, receiver: receiver, tls: tls, implicitTLS: false,
            queue: try QueueStore(directory: dir), fileIO: pool, limiter: ConnectionLimiter(maxTotal: 10, maxPerIP: 10),
            commandTimeout: commandTimeout, dataTimeout: .seconds(600), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let channel = NIOAsyncTestingChannel()
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                SMTPServerHandler(shared: context, client: ClientInfo(address: IPAddress("192.0.2.7"), listener: "test")))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25))
        return channel
    }

    /// The next reply the handler writes (replies may arrive in one buffer or several).
    func replies(_ channel: NIOAsyncTestingChannel, count: Int) async throws -> [String] {
        var lines: [String] = []
        var text = ""
        while lines.count < count {
            var buffer = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
            text += buffer.readString(length: buffer.readableBytes) ?? ""
            while let r = text.range(of: "\r\n") {
                let line = String(text[..<r.lowerBound])
                text = String(text[r.upperBound...])
                // The last line of a multi-line reply ("250 ", not "250-") ends the reply.
                if line.count >= 4, line[line.index(line.startIndex, offsetBy: 3)] == " " { lines.append(line) }
            }
        }
        return lines
    }

    func send(_ channel: NIOAsyncTestingChannel, _ text: String) async throws {
        try await channel.writeInbound(ByteBuffer(string: text))
    }

    func testPipelinedCommandsAreAnsweredInOrderAndTheMessageIsSpooled() async throws {
        let receiver = RecordingReceiver()
        let c = try await channel(receiver: receiver)
        let greeting = try await replies(c, count: 1)
        XCTAssertEqual(greeting, ["220 mx.test ESMTP Sluice"])
        try await send(c, "EHLO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n")
        let answers = try await replies(c, count: 5)
        XCTAssertEqual(answers.map { String($0.prefix(9)) }, ["250 DSN", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354 End d"], "\(answers)")
        try await send(c, "Subject: hi\r\n\r\nline one\r\n..dot\r\n.\r\nQUIT\r\n")
        let end = try await replies(c, count: 2)
        XCTAssertTrue(end[0].hasPrefix("250 2.0.0 Ok: queued as "), end[0])
        XCTAssertTrue(end[1].hasPrefix("221"), end[1])
        XCTAssertEqual(receiver.messages.count, 1)
        XCTAssertEqual(receiver.messages[0].0.recipients.map(\.address.description), ["b@example.org", "c@example.org"])
        XCTAssertTrue(receiver.messages[0].1.hasPrefix("Received: from client.test"), receiver.messages[0].1)
        XCTAssertTrue(receiver.messages[0].1.hasSuffix("Subject: hi\r\n\r\nline one\r\n.dot\r\n"), receiver.messages[0].1)
    }

    /// Facts a check records reach the message: the connection's for every message of the session, MAIL's and
    /// RCPT's for their transaction only, never a refused recipient's.
    func testSessionFactsReachTheMessageTheyAreAbout() async throws {
        let receiver = RecordingReceiver()
        let c = try await channel(receiver: receiver, checks: RecordingCheck())
        _ = try await replies(c, count: 1)
        try await send(c, "EHLO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<x@refused.test>\r\nDATA\r\n")
        let first = try await replies(c, count: 5)
        XCTAssertTrue(first[3].hasPrefix("550"), "\(first)")
        try await send(c, "Subject: one\r\n\r\nhi\r\n.\r\nMAIL FROM:<second@example.test>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n")
        _ = try await replies(c, count: 4)
        try await send(c, "Subject: two\r\n\r\nhi\r\n.\r\n")
        _ = try await replies(c, count: 1)
        XCTAssertEqual(receiver.facts.count, 2)
        XCTAssertEqual(receiver.facts.map { $0[SeenFact.self] }, [SeenFact(notes: ["connect 192.0.2.7"]), SeenFact(notes: ["connect 192.0.2.7"])])
        XCTAssertEqual(receiver.facts[0][ScoreFact.self], ScoreFact(points: 2, why: ["mail a@example.test", "rcpt b@example.org"]))
        XCTAssertEqual(receiver.facts[1][ScoreFact.self], ScoreFact(points: 2, why: ["mail second@example.test", "rcpt c@example.org"]))
    }

    /// Every connection's handler, session and buffers are freed when it closes (a retain cycle through the spool's
    /// callback once kept about 8 KiB per connection for the daemon's life: 600 MiB after 100,000 connections).
    func testAClosedConnectionLetsGoOfItsHandler() async throws {
        let handler = WeakReference()
        do {
            let receiver = RecordingReceiver()
            let c = try await channel(receiver: receiver)
            try await c.testingEventLoop.executeInContext {
                handler.object = try c.pipeline.syncOperations.handler(type: SMTPServerHandler.self)
            }
            XCTAssertNotNil(handler.object)
            _ = try await replies(c, count: 1)
            try await send(c, "EHLO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
            _ = try await replies(c, count: 4)
            try await send(c, "Subject: hi\r\n\r\nhi\r\n.\r\nQUIT\r\n")
            _ = try await replies(c, count: 2)
            XCTAssertEqual(receiver.messages.count, 1)
            // QUIT closed it; closing again only makes sure.
            try? await c.close()
        }
        let deadline = Date().addingTimeInterval(10)
        while handler.object != nil && Date() < deadline { try await Task.sleep(nanoseconds: 2_000_000) }
        XCTAssertNil(handler.object, "the handler of a closed connection is still in memory")
    }

    func testBDATChunks() async throws {
        let receiver = RecordingReceiver()
        let c = try await channel(receiver: receiver)
        _ = try await replies(c, count: 1)
        try await send(c, "EHLO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\n")
        _ = try await replies(c, count: 3)
        try await send(c, "BDAT 14\r\nSubject: x\r\n\r\nBDAT 4 LAST\r\nhi\r\n")
        let answers = try await replies(c, count: 2)
        XCTAssertTrue(answers[0].hasPrefix("250 2.0.0 Ok: 14 octets"), "\(answers)")
        XCTAssertTrue(answers[1].hasPrefix("250 2.0.0 Ok: queued as"), "\(answers)")
        XCTAssertTrue(receiver.messages.first?.1.hasSuffix("Subject: x\r\n\r\nhi\r\n") ?? false, "\(receiver.messages)")
    }

    func testASilentClientTimesOutOnTheLoopsClock() async throws {
        let c = try await channel(commandTimeout: .seconds(30))
        _ = try await replies(c, count: 1)
        await c.testingEventLoop.advanceTime(by: .seconds(29))
        let stillOpen = try await c.testingEventLoop.executeInContext { c.isActive }
        XCTAssertTrue(stillOpen)
        await c.testingEventLoop.advanceTime(by: .seconds(1))
        let timedOut = try await replies(c, count: 1)
        XCTAssertEqual(timedOut, ["421 4.4.2 mx.test Error: timeout exceeded"])
        try await c.closeFuture.get()
    }

    func testSTARTTLSDiscardsWhatWasPipelinedBeforeTheHandshake() async throws {
        let c = try await channel(tls: try Self.tlsContext())
        _ = try await replies(c, count: 1)
        try await send(c, "EHLO client.test\r\n")
        _ = try await replies(c, count: 1)
        // CVE-2011-0411: a command smuggled behind STARTTLS must not be executed after the handshake.
        try await send(c, "STARTTLS\r\nMAIL FROM:<injected@example.test>\r\n")
        let ready = try await replies(c, count: 1)
        XCTAssertEqual(ready, ["220 2.0.0 Ready to start TLS"])
        let hasTLS = try await c.testingEventLoop.executeInContext {
            (try? c.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil
        }
        XCTAssertTrue(hasTLS)
        // What follows is TLS now; the smuggled MAIL got no reply.
        let pending = try await c.readOutbound(as: ByteBuffer.self)
        XCTAssertNil(pending.flatMap { $0.getString(at: $0.readerIndex, length: $0.readableBytes) }.flatMap { $0.contains("250") ? $0 : nil })
    }

    func testARefusalAtEndOfDataCarriesItsStageAndReason() async throws {
        let receiver = RecordingReceiver()
        receiver.refusal = SMTPError(550, .init(5, 7, 1), "Message contains payment card data", reason: "rule block-card-numbers")
        let c = try await channel(receiver: receiver)
        _ = try await replies(c, count: 1)
        try await send(c, "HELO client.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        _ = try await replies(c, count: 4)
        try await send(c, "Subject: x\r\n\r\n4111 1111 1111 1111\r\n.\r\n")
        let refused = try await replies(c, count: 1)
        XCTAssertEqual(refused, ["550 5.7.1 Message contains payment card data"])
        // Nothing of the refused message stays in the queue's spool directory.
        let deadline = Date().addingTimeInterval(10)
        while (try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp")).count > 0 && Date() < deadline {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/tmp"), [])
    }

    /// A self-signed certificate made with openssl (Debian's; make test installs it).
    static func tlsContext() throws -> TLSContextHolder {
        let d = NSTemporaryDirectory() + "sluice-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=mx.test",
                       "-keyout", d + "/key.pem", "-out", d + "/cert.pem", "-days", "1"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(d + "/cert.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: d + "/key.pem", format: .pem)))
        return TLSContextHolder(try NIOSSLContext(configuration: config))
    }
}
