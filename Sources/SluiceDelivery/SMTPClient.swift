// SMTPClient: SwiftNIO glue that runs SMTPClientSessions over connections:
// line framing of replies, STARTTLS, and the message streamed from the queue
// file through the dot-stuffer in bounded chunks. A connection whose
// transaction ended cleanly (RSET answered) goes back to a pool and carries
// the next message to the same host, like Postfix's connection cache; an
// idle connection is closed after a few seconds.

import Foundation
import NIOConcurrencyHelpers
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
        /// A unix-domain socket to connect to instead of host and port (an LMTP server on this machine).
        public var unixPath: String?

        public init(host: String, port: Int, serverName: String? = nil) {
            self.host = host
            self.port = port
            self.serverName = serverName
        }

        /// `unix:PATH`.
        public init(unixPath: String) {
            self.init(host: "localhost", port: 0)
            self.unixPath = unixPath
        }

        public var description: String {
            if let unixPath { return "unix:\(unixPath)" }
            return "\(serverName.map { "\($0)[\(host)]" } ?? host):\(port)"
        }
    }

    /// What one session sends: the message (prefix, then the queue file from offset to length).
    struct Payload: Sendable {
        var bodyPath: String
        var bodyOffset: Int
        var bodyLength: Int
        var prefix: [UInt8]
        var timeout: TimeAmount
    }

    /// Runs `session` on a new connection.
    static func deliver(
        to endpoint: Endpoint, session: SMTPClientSession, tls: NIOSSLContext?, verifier: (any PeerCertificateVerifier)? = nil,
        payload: Payload, group: any EventLoopGroup, io: NIOThreadPool, pool: SMTPConnectionPool?, poolKey: String
    ) async -> SMTPClientSession.Outcome {
        let serverName = endpoint.serverName ?? (IPAddress(endpoint.host) == nil ? endpoint.host : nil)
        return await withCheckedContinuation { (continuation: CheckedContinuation<SMTPClientSession.Outcome, Never>) in
            let finish = OutcomeOnce(continuation)
            // The handler is in the pipeline before the first byte can arrive (the greeting).
            var bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(30))
            if endpoint.unixPath == nil { bootstrap = bootstrap.channelOption(.tcpOption(.tcp_nodelay), value: 1) }
            bootstrap = bootstrap
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SMTPClientHandler(
                            tls: tls, verification: verifier.map(PeerVerification.init), serverName: serverName, io: io, pool: pool,
                            poolKey: poolKey)
                        handler.job = SMTPClientHandler.Job(session: session, payload: payload, finish: finish)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            let connected = endpoint.unixPath.map { bootstrap.connect(unixDomainSocketPath: $0) } ?? bootstrap.connect(host: endpoint.host, port: endpoint.port)
            connected.whenFailure { error in
                var failing = session
                if case .done(let outcome) = failing.connectionFailed("\(endpoint): \(error)") {
                    finish.resume(outcome)
                }
            }
        }
    }

    /// Runs a continuing session on a pooled connection; nil if the connection was gone before it started.
    static func deliver(on channel: any Channel, session: SMTPClientSession, payload: Payload) async -> SMTPClientSession.Outcome? {
        await withCheckedContinuation { (continuation: CheckedContinuation<SMTPClientSession.Outcome?, Never>) in
            let started = channel.eventLoop.submit {
                let handler = try channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self)
                guard channel.isActive, handler.job == nil else { throw ChannelError.ioOnClosedChannel }
                handler.begin(
                    SMTPClientHandler.Job(session: session, payload: payload, finish: OutcomeOnce { continuation.resume(returning: $0) }))
            }
            started.whenFailure { _ in continuation.resume(returning: nil) }
        }
    }
}

/// Resumes the waiting delivery exactly once, whoever finishes first.
struct OutcomeOnce: Sendable {
    let deliver: @Sendable (SMTPClientSession.Outcome) -> Void
    let once = OnceFlag()

    init(_ c: CheckedContinuation<SMTPClientSession.Outcome, Never>) { deliver = { c.resume(returning: $0) } }
    init(_ deliver: @escaping @Sendable (SMTPClientSession.Outcome) -> Void) { self.deliver = deliver }

    func resume(_ outcome: SMTPClientSession.Outcome) {
        if once.claim() { deliver(outcome) }
    }
}

final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The session running on this connection now.
    struct Job {
        var session: SMTPClientSession
        var payload: SMTPClient.Payload
        var finish: OutcomeOnce
    }

    var job: Job?
    private let tls: NIOSSLContext?
    /// The attempt's own check of the server's chain (DANE), in place of the context's.
    private let verification: PeerVerification?
    private let serverName: String?
    private let io: NIOThreadPool
    private let pool: SMTPConnectionPool?
    private let poolKey: String
    private var buffer = ByteBuffer()
    private var parser = SMTPReplyParser()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    /// When the connection was opened (for the pool's reuse limit).
    private var opened = Date.distantPast
    /// QUIT was sent on an idle connection: the 221 (or the close) ends it.
    private var quitting = false

    /// Handlers alive now (tests check that a finished connection lets go of its handler).
    static let alive = NIOLockedValueBox(0)

    init(tls: NIOSSLContext?, verification: PeerVerification?, serverName: String?, io: NIOThreadPool, pool: SMTPConnectionPool?, poolKey: String) {
        self.tls = tls
        self.verification = verification
        self.serverName = serverName
        self.io = io
        self.pool = pool
        self.poolKey = poolKey
        Self.alive.withLockedValue { $0 += 1 }
    }

    deinit { Self.alive.withLockedValue { $0 -= 1 } }

    // The context is kept for `begin` (a pooled connection's next session) and dropped when the channel
    // closes: the context holds the pipeline, which holds this handler.
    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        opened = pool?.clock.now() ?? Date.distantPast
        arm(context: context)
        context.fireChannelActive()
    }

    /// Starts a continuing session on this (idle, pooled) connection.
    func begin(_ next: Job) {
        guard let context else { return }
        job = next
        arm(context: context)
        execute(job!.session.start(), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        guard job != nil else {
            // The 221 to our QUIT, or an idle connection that spoke (421 before closing): it is not reusable.
            pool?.remove(context.channel)
            context.close(promise: nil)
            return
        }
        arm(context: context)
        while job != nil, let lf = buffer.readableBytesView.firstIndex(of: 10) {
            let length = lf - buffer.readerIndex + 1
            var bytes = buffer.readBytes(length: length) ?? []
            // Work on bytes: in a Swift String "\r\n" is one Character.
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            let line = String(decoding: bytes, as: UTF8.self)
            do {
                if let reply = try parser.feed(line) { execute(job!.session.received(reply), context: context) }
            } catch {
                execute(job!.session.connectionFailed("unreadable reply: \(line.prefix(100))"), context: context)
            }
        }
        if buffer.readableBytes > 64 * 1024, job != nil { execute(job!.session.connectionFailed("reply line too long"), context: context) }
        buffer.discardReadBytes()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, job != nil {
            let ops = context.pipeline.syncOperations
            // The handler may be gone with the connection; then no version is known.
            let version = (try? ops.handler(type: NIOSSLClientHandler.self))?.tlsVersion.map { TLSCipherSuite.protocolName("\($0)") }
            var cipher: String?
            if let reader = try? ops.handler(type: ServerHelloReader.self) {
                cipher = reader.cipherSuite.map { TLSCipherSuite(code: $0).name }
                ops.removeHandler(reader, promise: nil)
            }
            execute(job!.session.tlsEstablished(version: version, cipher: cipher, verifiedBy: verification?.vouched), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.remove(context.channel)
        if job != nil { execute(job!.session.connectionFailed("connection closed by the server"), context: context) }
        timer?.cancel()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A handshake our verifier refused: its reason, not the TLS layer's "handshake failed".
        let why = verification?.refusal.map { "\($0)" } ?? "\(error)"
        if job != nil { execute(job!.session.connectionFailed(why), context: context) }
        pool?.remove(context.channel)
        context.close(promise: nil)
    }

    /// While a session runs: its reply timeout. While idle: the pool's idle limit, then QUIT. After QUIT: how long the
    /// 221 may take before the connection is closed anyway.
    private func arm(context: ChannelHandlerContext) {
        timer?.cancel()
        let wait = quitting ? .seconds(10) : job?.payload.timeout ?? .milliseconds(Int64((pool?.idleLimit ?? 0) * 1000))
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
            if self.job != nil {
                self.execute(self.job!.session.connectionFailed("timeout"), context: context)
            } else if self.quitting {
                context.close(promise: nil)
            } else {
                self.sendQuit(context: context)
            }
        }
    }

    /// Ends an idle connection politely: QUIT, then close on the 221 or after a short wait.
    private func sendQuit(context: ChannelHandlerContext) {
        guard !quitting, context.channel.isActive else { return }
        pool?.remove(context.channel)
        quitting = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "QUIT\r\n")), promise: nil)
        arm(context: context)
    }

    /// Ends an idle pooled connection with QUIT (from any thread).
    static func quit(_ channel: any Channel) {
        channel.eventLoop.execute {
            guard let handler = try? channel.pipeline.syncOperations.handler(type: SMTPClientHandler.self), handler.job == nil,
                let context = handler.context
            else {
                channel.close(promise: nil)
                return
            }
            handler.sendQuit(context: context)
        }
    }

    private func execute(_ action: SMTPClientSession.Action, context: ChannelHandlerContext) {
        guard let current = job else { return }
        switch action {
        case .send(let text):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
        case .startTLS:
            do {
                guard let tls else { throw NIOSSLError.failedToLoadCertificate }
                let tlsHandler = try verification?.handler(context: tls, serverHostname: serverName)
                    ?? NIOSSLClientHandler(context: tls, serverHostname: serverName)
                try context.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
                // Between the socket and the TLS handler: it reads the cipher suite from the ServerHello.
                try context.pipeline.syncOperations.addHandler(ServerHelloReader(), position: .first)
            } catch {
                execute(job!.session.connectionFailed("cannot start TLS: \(error)"), context: context)
            }
        case .wait:
            break
        case .sendBody:
            var stuffer = DotStuffer()
            let p = current.payload
            if !p.prefix.isEmpty {
                context.write(wrapOutboundOut(stuffer.stuff(context.channel.allocator.buffer(bytes: p.prefix))), promise: nil)
            }
            sendChunk(from: p.bodyOffset, payload: p, stuffer: stuffer, context: context)
        case .done(let outcome):
            let negotiated = current.session.negotiated
            job = nil
            current.finish.resume(outcome)
            if outcome.reusable, let pool {
                if pool.park(poolKey, .init(channel: context.channel, negotiated: negotiated, since: pool.clock.now(), opened: opened)) {
                    arm(context: context)  // now the idle limit
                } else {
                    // Clean, but no room to keep it (or too old to reuse): QUIT, not a dropped connection.
                    sendQuit(context: context)
                }
            } else {
                timer?.cancel()
                context.close(promise: nil)
            }
        }
    }

    /// Reads the queue file a chunk at a time off the event loop, writes it stuffed, and goes on when written.
    private func sendChunk(from offset: Int, payload: SMTPClient.Payload, stuffer: DotStuffer, context: ChannelHandlerContext) {
        var stuffer = stuffer
        let path = payload.bodyPath
        let remaining = payload.bodyLength - offset
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
                        self.sendChunk(from: offset + chunk.readableBytes, payload: payload, stuffer: stuffer, context: context)
                    }
                }
            case .failure(let error):
                if self.job != nil {
                    self.execute(self.job!.session.connectionFailed("reading the queue file: \(error)"), context: context)
                }
            }
        }
    }
}
