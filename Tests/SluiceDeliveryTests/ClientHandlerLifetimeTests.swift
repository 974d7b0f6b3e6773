// The outbound SMTP client lets go of each connection's handler when the
// connection ends: 1,000 deliveries to a loopback sink leave none alive.

import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceCore
import SluiceSMTP
import XCTest

@testable import SluiceDelivery

final class ClientHandlerLifetimeTests: XCTestCase {
    func testAThousandDeliveriesLeaveNoHandlerAlive() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let io = NIOThreadPool(numberOfThreads: 2)
        io.start()
        let sink = try await LoopbackSink.start(group: group)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-handlers-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let body = Array("From: a@example.test\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/m", contents: Data(body)))
        // No connection pool: every delivery opens, uses and closes its own connection.
        let deliverer = try SMTPDeliverer(heloName: "me.test", group: group, io: io, pool: nil)
        let baseline = SMTPClientHandler.alive.withLockedValue { $0 }
        let recipient = MailAddress(localPart: "b", domain: "example.org")
        var message = OutgoingMessage(
            envelope: Envelope(
                queueID: QueueID.generate(), sender: MailAddress(localPart: "a", domain: "example.test"),
                recipients: [Recipient(address: recipient)], client: ClientInfo(address: nil, listener: "test")),
            prependedHeaders: [], bodyPath: dir + "/m", bodyLength: body.count)
        message.bodyOffset = 0
        let outgoing = message
        var delivered = 0
        try await withThrowingTaskGroup(of: Int.self) { tasks in
            for worker in 0..<8 {
                tasks.addTask {
                    var ok = 0
                    for _ in stride(from: worker, to: 1000, by: 8) {
                        let outcome = await deliverer.attempt(
                            outgoing, to: [recipient], host: .init(host: "127.0.0.1", port: sink.port), tls: .none)
                        if outcome.failure == nil && outcome.accepted == [recipient] { ok += 1 }
                    }
                    return ok
                }
            }
            for try await n in tasks { delivered += n }
        }
        XCTAssertEqual(delivered, 1000)
        XCTAssertEqual(sink.messages, 1000)
        // Channels close asynchronously after the outcome: poll, bounded.
        let deadline = Date().addingTimeInterval(20)
        while SMTPClientHandler.alive.withLockedValue({ $0 }) > baseline, Date() < deadline {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertEqual(SMTPClientHandler.alive.withLockedValue { $0 }, baseline, "client handlers still alive after their connections closed")
        try await sink.channel.close()
        try await group.shutdownGracefully()
        try await io.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// A minimal SMTP server on 127.0.0.1 that accepts every message (the far end for client tests).
final class LoopbackSink: @unchecked Sendable {
    let channel: any Channel
    private let counter: SinkCounter
    var port: Int { channel.localAddress!.port! }
    var messages: Int { counter.count.withLockedValue { $0 } }
    var connections: Int { counter.connections.withLockedValue { $0 } }
    var quits: Int { counter.quits.withLockedValue { $0 } }

    private init(channel: any Channel, counter: SinkCounter) {
        self.channel = channel
        self.counter = counter
    }

    static func start(group: any EventLoopGroup) async throws -> LoopbackSink {
        let counter = SinkCounter()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SinkHandler(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackSink(channel: channel, counter: counter)
    }
}

final class SinkCounter: Sendable {
    let count = NIOLockedValueBox(0)
    let connections = NIOLockedValueBox(0)
    let quits = NIOLockedValueBox(0)
}

final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let counter: SinkCounter
    var buffer = ByteBuffer()
    var inData = false

    init(counter: SinkCounter) { self.counter = counter }

    func channelActive(context: ChannelHandlerContext) {
        counter.connections.withLockedValue { $0 += 1 }
        send("220 sink.test ESMTP", context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        while let lf = buffer.readableBytesView.firstIndex(of: 10) {
            let line = String(decoding: buffer.readBytes(length: lf - buffer.readerIndex + 1)!, as: UTF8.self)
                .trimmingCharacters(in: .newlines)
            if inData {
                if line == "." {
                    inData = false
                    counter.count.withLockedValue { $0 += 1 }
                    send("250 2.0.0 Ok", context: context)
                }
                continue
            }
            let verb = line.prefix(4).uppercased()
            switch verb {
            case "EHLO": send("250-sink.test\r\n250 8BITMIME", context: context)
            case "DATA":
                inData = true
                send("354 go ahead", context: context)
            case "QUIT":
                counter.quits.withLockedValue { $0 += 1 }
                send("221 bye", context: context)
                context.close(promise: nil)
            default: send("250 2.0.0 Ok", context: context)
            }
        }
        buffer.discardReadBytes()
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text + "\r\n")), promise: nil)
    }
}
