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
    var greeted = false
    var draining = false
    /// Counted against the listener's connection limits (released when the connection ends).
    var admitted = false
    var limitRefusal: SMTPError?
    var input = ByteBuffer()
    var needsFlush = false
    private var readHeld = false
    private var readPending = false
    var timeout: Scheduled<Void>?
    var spool: SpoolWriter?
    /// What session checks recorded about the connection (kept for every message of it) and about the transaction
    /// in progress (since its MAIL).
    var connectionFacts = MessageVerdicts()
    var transactionFacts = MessageVerdicts()
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

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if admitted { shared.limiter.release(session.client.address) }
        admitted = false
        shared.sessions.remove(context.channel)
        SluiceMetrics.connectionClosed(listener: shared.name)
        spool?.discard()
        // The spool's callback holds this handler and its context: let go of it, or every connection's handler,
        // session and buffers stay in memory for the life of the daemon (about 8 KiB each).
        spool?.onWritten = {}
        spool = nil
        var fields: [LogKey: String] = [:]
        if let v = session.client.tlsVersion { fields[.tlsVersion] = v }
        logger.event(.disconnect, "disconnect", fields)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that leaves after QUIT (or while we close) without a TLS close_notify, or with a reset, has
        // ended normally: that is a disconnect, not an error.
        if session.isClosed || phase == .closing || Self.isPeerGone(error) {
            logger.event(.disconnect, level: .debug, "client closed the connection", [.reason: "\(error)"])
        } else {
            logger.event(.error, "connection error", [.error: "\(error)"])
        }
        context.close(promise: nil)
    }

    static func isPeerGone(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNRESET || io.errnoCode == EPIPE }
        if case NIOSSLError.uncleanShutdown = error { return true }
        return false
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
    func updateBackpressure(context: ChannelHandlerContext) {
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
    func armTimeout(context: ChannelHandlerContext) {
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
