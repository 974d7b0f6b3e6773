// SMTPClient: SwiftNIO glue that runs one SMTPClientSession over one
// connection: line framing of replies, STARTTLS, and the message streamed
// from the queue file through the dot-stuffer in bounded chunks.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SluiceCore
import SluiceSMTP

public enum SMTPClient {
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        /// The name TLS verifies the certificate against (the MX name when `host` is its address).
        public var serverName: String?

        public init(host: String, port: Int, serverName: String? = nil) {
            self.host = host
            self.port = port
            self.serverName = serverName
        }

        public var description: String { "\(serverName.map { "\($0)[\(host)]" } ?? host):\(port)" }
    }

    public static func deliver(
        to endpoint: Endpoint, session: SMTPClientSession, tls: NIOSSLContext?, bodyPath: String, bodyOffset: Int = 0, bodyLength: Int,
        prefix: [UInt8], group: any EventLoopGroup, io: NIOThreadPool, timeout: TimeAmount = .minutes(5)
    ) async -> SMTPClientSession.Outcome {
        let serverName = endpoint.serverName ?? (IPAddress(endpoint.host) == nil ? endpoint.host : nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<SMTPClientSession.Outcome, Never>) in
            let finish = OutcomeOnce(continuation)
            // The handler is in the pipeline before the first byte can arrive (the greeting).
            let bootstrap = ClientBootstrap(group: group)
                .connectTimeout(.seconds(30))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            SMTPClientHandler(
                                session: session, tls: tls, serverName: serverName, bodyPath: bodyPath, bodyOffset: bodyOffset,
                                bodyLength: bodyLength,
                                prefix: prefix, io: io, timeout: timeout, finish: finish))
                    }
                }
            bootstrap.connect(host: endpoint.host, port: endpoint.port).whenFailure { error in
                var failing = session
                if case .done(let outcome) = failing.connectionFailed("\(endpoint.host):\(endpoint.port): \(error)") {
                    finish.resume(outcome)
                }
            }
        }
    }
}

/// Resumes the waiting delivery exactly once, whoever finishes first.
struct OutcomeOnce: Sendable {
    let continuation: CheckedContinuation<SMTPClientSession.Outcome, Never>
    let once = OnceFlag()

    init(_ c: CheckedContinuation<SMTPClientSession.Outcome, Never>) { continuation = c }

    func resume(_ outcome: SMTPClientSession.Outcome) {
        if once.claim() { continuation.resume(returning: outcome) }
    }
}

final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SMTPClientSession
    private let tls: NIOSSLContext?
    private let serverName: String?
    private let bodyPath: String
    private let bodyOffset: Int
    private let bodyLength: Int
    private let prefix: [UInt8]
    private let io: NIOThreadPool
    private let timeout: TimeAmount
    private let finish: OutcomeOnce
    private var buffer = ByteBuffer()
    private var parser = SMTPReplyParser()
    private var finished = false
    private var timer: Scheduled<Void>?

    init(
        session: SMTPClientSession, tls: NIOSSLContext?, serverName: String?, bodyPath: String, bodyOffset: Int, bodyLength: Int,
        prefix: [UInt8],
        io: NIOThreadPool, timeout: TimeAmount, finish: OutcomeOnce
    ) {
        self.session = session
        self.tls = tls
        self.serverName = serverName
        self.bodyPath = bodyPath
        self.bodyOffset = bodyOffset
        self.bodyLength = bodyLength
        self.prefix = prefix
        self.io = io
        self.timeout = timeout
        self.finish = finish
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        arm(context: context)
        while !finished, let lf = buffer.readableBytesView.firstIndex(of: 10) {
            let length = lf - buffer.readerIndex + 1
            var bytes = buffer.readBytes(length: length) ?? []
            // Work on bytes: in a Swift String "\r\n" is one Character.
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            let line = String(decoding: bytes, as: UTF8.self)
            do {
                if let reply = try parser.feed(line) { execute(session.received(reply), context: context) }
            } catch {
                execute(session.connectionFailed("unreadable reply: \(line.prefix(100))"), context: context)
            }
        }
        if buffer.readableBytes > 64 * 1024 { execute(session.connectionFailed("reply line too long"), context: context) }
        buffer.discardReadBytes()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            execute(session.tlsEstablished(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { execute(session.connectionFailed("connection closed by the server"), context: context) }
        timer?.cancel()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished { execute(session.connectionFailed("\(error)"), context: context) }
        context.close(promise: nil)
    }

    private func arm(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            if !self.finished { self.execute(self.session.connectionFailed("timeout"), context: context) }
        }
    }

    private func execute(_ action: SMTPClientSession.Action, context: ChannelHandlerContext) {
        guard !finished else { return }
        switch action {
        case .send(let text):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        case .startTLS:
            do {
                guard let tls else { throw NIOSSLError.failedToLoadCertificate }
                try context.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
            } catch {
                execute(session.connectionFailed("cannot start TLS: \(error)"), context: context)
            }
        case .sendBody:
            var stuffer = DotStuffer()
            if !prefix.isEmpty {
                context.write(wrapOutboundOut(stuffer.stuff(context.channel.allocator.buffer(bytes: prefix))), promise: nil)
            }
            sendChunk(from: bodyOffset, stuffer: stuffer, context: context)
        case .done(let outcome):
            finished = true
            timer?.cancel()
            finish.resume(outcome)
            context.close(promise: nil)
        }
    }

    /// Reads the queue file a chunk at a time off the event loop, writes it stuffed, and goes on when written.
    private func sendChunk(from offset: Int, stuffer: DotStuffer, context: ChannelHandlerContext) {
        var stuffer = stuffer
        let path = bodyPath
        let remaining = bodyLength - offset
        guard remaining > 0 else {
            context.writeAndFlush(wrapOutboundOut(stuffer.finish()), promise: nil)
            return
        }
        let count = min(remaining, 256 * 1024)
        io.runIfActive(eventLoop: context.eventLoop) { () throws -> ByteBuffer in
            guard let h = FileHandle(forReadingAtPath: path) else { throw SMTPError(451, .init(4, 3, 0), "Queue file missing") }
            defer { try? h.close() }
            try h.seek(toOffset: UInt64(offset))
            let data = try h.read(upToCount: count) ?? Data()
            guard !data.isEmpty else { throw SMTPError(451, .init(4, 3, 0), "Queue file truncated") }
            return ByteBuffer(bytes: data)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let chunk):
                let out = stuffer.stuff(chunk)
                context.writeAndFlush(self.wrapOutboundOut(out)).assumeIsolated().whenComplete { written in
                    if case .success = written {
                        self.sendChunk(from: offset + chunk.readableBytes, stuffer: stuffer, context: context)
                    }
                }
            case .failure(let error):
                self.execute(self.session.connectionFailed("reading the queue file: \(error)"), context: context)
            }
        }
    }
}
