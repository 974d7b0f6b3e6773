// SMTPServerHandler: the thin NIO glue around one SMTPServerSession (the
// protocol state machine, in SluiceSMTP). It feeds the session the bytes, TLS
// and PROXY events it gets, and executes the session's actions: replies,
// checks (async, one at a time), the spool (SpoolWriter), STARTTLS, close.
// It owns only connection matters: the phase, timeouts, backpressure, limits.

import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SluiceCore
import SluiceSMTP

final class SMTPServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where the connection is, as one value.
    enum Phase {
        /// Behind a load balancer: waiting for the PROXY header that names the client.
        case awaitingProxy
        /// A TLS handshake (implicit TLS before the greeting, or after STARTTLS).
        case handshaking
        /// The SMTP dialogue.
        case running
        /// The last reply is written; the connection closes.
        case closing
    }

    let shared: ListenerContext
    var session: SMTPServerSession
    var logger: Logger
    var phase: Phase = .running
    /// A check, AUTH or the message stages are at work: input waits.
    var waiting = false
    private var greeted = false
    private var draining = false
    /// Counted against the listener's connection limits (released when the connection ends).
    private var admitted = false
    private var limitRefusal: SMTPError?
    var input = ByteBuffer()
    var needsFlush = false
    private var readHeld = false
    private var readPending = false
    private var timeout: Scheduled<Void>?
    var spool: SpoolWriter?
    private static let maxBufferedInput = 1024 * 1024

    init(shared: ListenerContext, client: ClientInfo) {
        self.shared = shared
        self.session = SMTPServerSession(configuration: shared.session, client: client)
        var logger = shared.logger
        logger[.session] = String(UInt32.random(in: .min ... .max), radix: 16)
        logger[.client] = client.address.map(\.description) ?? "?"
        logger[.listener] = shared.name
        self.logger = logger
    }

    // MARK: Connection events

    func channelActive(context: ChannelHandlerContext) {
        shared.sessions.add(context.channel)
        SluiceMetrics.connectionOpened(listener: shared.name)
        let spool = SpoolWriter(queue: shared.queue, pool: shared.fileIO, loop: context.eventLoop)
        spool.onWritten = { self.updateBackpressure(context: context) }
        self.spool = spool
        if shared.proxyFrom != nil {
            phase = .awaitingProxy
            armTimeout(context: context)
        } else {
            admit(context: context)
        }
        context.fireChannelActive()
    }

    /// The client is known: count it against the limits, log it, and greet (after the handshake with implicit TLS).
    private func admit(context: ChannelHandlerContext) {
        limitRefusal = shared.limiter.acquire(session.client.address)
        admitted = limitRefusal == nil
        logger.event(.connect, "connect", [.port: "\(session.client.port ?? 0)"])
        if shared.implicitTLS {
            phase = .handshaking
            armTimeout(context: context)
        } else {
            greet(context: context)
        }
    }

    private func greet(context: ChannelHandlerContext) {
        phase = .running
        greeted = true
        if let refusal = limitRefusal {
            refuseConnection(refusal, context: context)
            return
        }
        let (checks, client) = (shared.checks, session.client)
        run(context: context, { try await checks.checkConnection(client) }) { result in
            switch result {
            case .success: return self.session.start()
            case .failure(let e):
                self.logger.event(.reject, level: .notice, "connection refused", [.reply: "\(e.reply)", .reason: e.reason])
                SluiceMetrics.rejected(listener: self.shared.name, stage: "connect", status: e.reply.status?.description ?? "\(e.reply.code)")
                return self.session.refuse(e)
            }
        }
    }

    private func refuseConnection(_ e: SMTPError, context: ChannelHandlerContext) {
        logger.event(.reject, level: .notice, "connection refused", [.reply: "\(e.reply)", .reason: e.reason])
        SluiceMetrics.rejected(listener: shared.name, stage: "connect", status: e.reply.status?.description ?? "\(e.reply.code)")
        execute(session.refuse(e), context: context)
        flushIfNeeded(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let version = ((try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.tlsVersion).map(Self.describe) ?? "TLS"
            session.tlsEstablished(version: version, cipher: nil)
            logger.event(.tls, "tls established", [.tlsVersion: version])
            if greeted {
                phase = .running
                waiting = false
                process(context: context)
            } else if !session.isClosed {
                greet(context: context)
            }
        } else if let proxied = event as? ProxiedClient, phase == .awaitingProxy {
            if let address = proxied.address {
                session.clientIdentified(address: address, port: proxied.port)
                logger[.client] = address.description
            }
            admit(context: context)
        } else if let control = event as? SessionControl {
            switch control {
            case .drain:
                draining = true
                closeIfDrained(context: context)
            case .forceClose:
                closeForShutdown(context: context)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if admitted { shared.limiter.release(session.client.address) }
        admitted = false
        shared.sessions.remove(context.channel)
        SluiceMetrics.connectionClosed(listener: shared.name)
        spool?.discard()
        var fields: [LogKey: String] = [:]
        if let v = session.client.tlsVersion { fields[.tlsVersion] = v }
        logger.event(.disconnect, "disconnect", fields)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.event(.error, "connection error", [.error: "\(error)"])
        context.close(promise: nil)
    }

    /// The daemon drains: a session between transactions (or still in its handshake) gets 421 now; one in a
    /// transaction finishes it first.
    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining else { return }
        switch phase {
        case .handshaking: closeForShutdown(context: context)
        case .running where !waiting && session.isIdle: closeForShutdown(context: context)
        default: break
        }
    }

    private func closeForShutdown(context: ChannelHandlerContext) {
        guard phase != .closing else { return }
        spool?.discard()
        write(SMTPReply(421, .init(4, 3, 2), "\(shared.session.hostname) Service shutting down, try again later"), context: context)
        close(context: context)
    }

    func close(context: ChannelHandlerContext) {
        phase = .closing
        needsFlush = false
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        process(context: context)
    }

    func read(context: ChannelHandlerContext) {
        if readHeld { readPending = true } else { context.read() }
    }

    func process(context: ChannelHandlerContext) {
        while phase == .running && !waiting, let action = session.next(&input) {
            execute(action, context: context)
        }
        if input.readerIndex > 64 * 1024 || input.readableBytes == 0 { input.discardReadBytes() }
        flushIfNeeded(context: context)
        updateBackpressure(context: context)
        armTimeout(context: context)
        closeIfDrained(context: context)
    }

    /// Reads stop while the spool is behind the client or too much input waits; they resume when it is not.
    private func updateBackpressure(context: ChannelHandlerContext) {
        let hold = (spool?.isBehind ?? false) || input.readableBytes > Self.maxBufferedInput || (waiting && input.readableBytes > 64 * 1024)
        if hold {
            readHeld = true
        } else if readHeld {
            readHeld = false
            if readPending {
                readPending = false
                context.read()
            }
        }
    }

    /// The command or data timeout while the client owes us something; none while we are at work.
    private func armTimeout(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        switch phase {
        case .closing: return
        case .running where waiting: return
        default: break
        }
        let amount = session.isReceivingData ? shared.dataTimeout : shared.commandTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
            guard self.phase != .closing else { return }
            self.logger.event(.timeout, level: .notice, "timeout", [.queueID: self.session.currentQueueID?.rawValue ?? ""])
            self.spool?.discard()
            self.write(SMTPReply(421, .init(4, 4, 2), "\(self.shared.session.hostname) Error: timeout exceeded"), context: context)
            // Closed at once, not after the flush: a client silent in its TLS handshake never lets the reply out.
            self.phase = .closing
            context.flush()
            context.close(promise: nil)
        }
    }

    func write(_ reply: SMTPReply, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString(reply.wireFormat)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }
}
