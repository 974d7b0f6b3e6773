// SMTPServerHandler: runs one SMTPServerSession on a channel. It owns the
// input buffer, executes the session's actions (replies, checks, spool writes,
// STARTTLS, close) and applies backpressure and timeouts. Protocol decisions
// live in the session; file I/O runs on the thread pool.

import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SluiceCore
import SluiceQueue
import SluiceSMTP

final class SMTPServerHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let shared: ListenerContext
    private var session: SMTPServerSession
    private var logger: Logger
    private var input = ByteBuffer()
    /// Waiting for a check, the message stages, or a TLS handshake.
    private var waiting = false
    /// Waiting for the client's TLS handshake: the command timeout applies.
    private var handshaking = false
    /// Waiting for the PROXY protocol header: the command timeout applies.
    private var awaitingProxy = false
    private var needsFlush = false
    private var closing = false
    private var acquired = false
    private var refusal: SMTPError?
    /// The daemon is shutting down: finish the transaction in progress, then 421.
    private var draining = false

    // Spooling of the message in flight.
    private var spool: SpoolFile?
    private var spoolChain: EventLoopFuture<Void>?
    private var spoolBuffer = ByteBuffer()
    private var pendingSpoolBytes = 0
    private static let spoolFlushThreshold = 256 * 1024
    private static let maxPendingSpoolBytes = 4 * 1024 * 1024
    private static let maxBufferedInput = 1024 * 1024

    // Backpressure: reads held while the spool or the buffer is behind.
    private var readHeld = false
    private var readPending = false
    private var timeout: Scheduled<Void>?

    init(shared: ListenerContext, client: ClientInfo) {
        self.shared = shared
        self.session = SMTPServerSession(configuration: shared.session, client: client)
        var logger = shared.logger
        logger[.session] = String(UInt32.random(in: .min ... .max), radix: 16)
        logger[.client] = client.address.map(\.description) ?? "?"
        logger[.listener] = shared.name
        self.logger = logger
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        shared.sessions.add(context.channel)
        SluiceMetrics.connectionOpened(listener: shared.name)
        if shared.proxyFrom != nil {
            // Admission waits for the PROXY header, which names the real client.
            waiting = true
            awaitingProxy = true
            armTimeout(context: context)
        } else {
            admit(context: context)
        }
        context.fireChannelActive()
    }

    /// The client is known: count it against the limits, log it, and greet (or await TLS).
    private func admit(context: ChannelHandlerContext) {
        let client = session.client
        refusal = shared.limiter.acquire(client.address)
        acquired = refusal == nil
        logger.event(.connect, "connect", [.port: "\(client.port ?? 0)"])
        if shared.implicitTLS {
            // Greet after the handshake: see userInboundEventTriggered.
            waiting = true
            handshaking = true
            armTimeout(context: context)
        } else {
            greet(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if acquired { shared.limiter.release(session.client.address) }
        acquired = false
        shared.sessions.remove(context.channel)
        SluiceMetrics.connectionClosed(listener: shared.name)
        discardSpool()
        var fields: [LogKey: String] = [:]
        if let v = session.client.tlsVersion { fields[.tlsVersion] = v }
        logger.event(.disconnect, "disconnect", fields)
        context.fireChannelInactive()
    }

    private func greet(context: ChannelHandlerContext) {
        if let refusal {
            logger.event(.reject, level: .notice, "connection refused", [.reply: "\(refusal.reply)", .reason: refusal.reason])
            SluiceMetrics.rejected(listener: shared.name, stage: "connect", status: refusal.reply.status?.description ?? "\(refusal.reply.code)")
            execute(session.refuse(refusal), context: context)
            flushIfNeeded(context: context)
            return
        }
        waiting = true
        let checks = shared.checks
        let client = session.client
        let future = context.eventLoop.makeFutureWithTask { try await checks.checkConnection(client) }
        future.hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            self.waiting = false
            switch result {
            case .success: self.execute(self.session.start(), context: context)
            case .failure(let error):
                let e = SMTPError.from(error)
                self.logger.event(.reject, level: .notice, "connection refused", [.reply: "\(e.reply)", .reason: e.reason])
                SluiceMetrics.rejected(listener: self.shared.name, stage: "connect", status: e.reply.status?.description ?? "\(e.reply.code)")
                self.execute(self.session.refuse(e), context: context)
            }
            self.process(context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshaking = false
            let version = (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.tlsVersion
            session.tlsEstablished(version: version.map(Self.describe) ?? "TLS", cipher: nil)
            logger.event(.tls, "tls established", [.tlsVersion: version.map(Self.describe) ?? "?"])
            if shared.implicitTLS && !session.isClosed && !sessionStarted {
                sessionStarted = true
                greet(context: context)
            } else {
                waiting = false
                process(context: context)
            }
        }
        if let proxied = event as? ProxiedClient {
            awaitingProxy = false
            waiting = false
            if let address = proxied.address {
                session.clientIdentified(address: address, port: proxied.port)
                logger[.client] = address.description
            }
            admit(context: context)
            return
        }
        if let control = event as? SessionControl {
            switch control {
            case .drain:
                draining = true
                closeIfDrained(context: context)
            case .forceClose:
                closeForShutdown(context: context)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var sessionStarted = false

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, !closing, !waiting || handshaking, session.isIdle || handshaking || !sessionStarted && shared.implicitTLS else {
            return
        }
        closeForShutdown(context: context)
    }

    private func closeForShutdown(context: ChannelHandlerContext) {
        guard !closing else { return }
        discardSpool()
        write(SMTPReply(421, .init(4, 3, 2), "\(shared.session.hostname) Service shutting down, try again later"), context: context)
        closing = true
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.event(.error, "connection error", [.error: "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Input

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        process(context: context)
    }

    func read(context: ChannelHandlerContext) {
        if readHeld {
            readPending = true
        } else {
            context.read()
        }
    }

    private func process(context: ChannelHandlerContext) {
        while !waiting && !closing {
            guard let action = session.next(&input) else { break }
            execute(action, context: context)
        }
        if input.readerIndex > 64 * 1024 || input.readableBytes == 0 { input.discardReadBytes() }
        flushIfNeeded(context: context)
        updateBackpressure(context: context)
        armTimeout(context: context)
        closeIfDrained(context: context)
    }

    private func updateBackpressure(context: ChannelHandlerContext) {
        let hold = pendingSpoolBytes > Self.maxPendingSpoolBytes || input.readableBytes > Self.maxBufferedInput
            || (waiting && input.readableBytes > 64 * 1024)
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

    private func armTimeout(context: ChannelHandlerContext) {
        timeout?.cancel()
        timeout = nil
        guard !waiting || handshaking || awaitingProxy, !closing else { return }
        let amount = session.isReceivingData ? shared.dataTimeout : shared.commandTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
            guard !self.closing else { return }
            self.logger.event(.timeout, level: .notice, "timeout", [.queueID: self.session.currentQueueID?.rawValue ?? ""])
            self.discardSpool()
            self.write(SMTPReply(421, .init(4, 4, 2), "\(self.shared.session.hostname) Error: timeout exceeded"), context: context)
            self.closing = true
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer()), promise: nil)
            context.close(promise: nil)
        }
    }

    // MARK: Actions

    private func execute(_ action: SMTPServerSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let reply):
            if !reply.isPositive { logRejection(reply) }
            write(reply, context: context)
        case .sendAndClose(let reply):
            if !reply.isPositive { logRejection(reply) }
            write(reply, context: context)
            closing = true
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .startTLS(let reply):
            guard let tls = shared.tls else {
                write(SMTPReply(454, .init(4, 7, 0), "TLS not available"), context: context)
                return
            }
            write(reply, context: context)
            context.flush()
            needsFlush = false
            waiting = true
            handshaking = true
            input.clear()
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current), position: .first)
            } catch {
                logger.event(.error, level: .error, "cannot start TLS", [.error: "\(error)"])
                context.close(promise: nil)
            }
        case .checkSender(let sender):
            waiting = true
            let checks = shared.checks
            let client = session.client
            let future = context.eventLoop.makeFutureWithTask { try await checks.checkSender(sender, client: client) }
            future.assumeIsolated().whenComplete { result in
                self.resume(self.session.senderChecked(result.mapError(SMTPError.from)), context: context)
            }
        case .checkRecipient(let recipient, let sender):
            waiting = true
            let checks = shared.checks
            let client = session.client
            let future = context.eventLoop.makeFutureWithTask { () async throws -> Void in
                try await checks.checkRecipient(recipient, sender: sender, client: client)
            }
            future.assumeIsolated().whenComplete { result in
                if case .failure(let error) = result {
                    self.rejectedReason = SMTPError.from(error).reason
                    self.rejectedRecipient = recipient.description
                }
                self.resume(self.session.recipientChecked(result.mapError(SMTPError.from)), context: context)
            }
        case .authenticate(let user, let secret, let mechanism):
            waiting = true
            guard let authenticator = shared.authenticator else {
                resume(session.authenticationFinished(.failure(SMTPError(454, .init(4, 7, 0), "Temporary authentication failure"))), context: context)
                return
            }
            let client = session.client
            let future = context.eventLoop.makeFutureWithTask { () async throws -> String in
                try await authenticator.authenticate(user: user, secret: secret, client: client)
            }
            future.assumeIsolated().whenComplete { result in
                let result = result.mapError(SMTPError.from)
                switch result {
                case .success(let name):
                    self.logger[.user] = name
                    self.logger.event(.auth, "authenticated", [.mechanism: mechanism])
                case .failure(let e):
                    // The user name is logged (it is not a secret); the secret never is.
                    self.logger.event(.auth, level: .notice, "authentication failed", [.user: user, .mechanism: mechanism, .reply: "\(e.reply)"])
                }
                self.waiting = false
                self.execute(self.session.authenticationFinished(result), context: context)
                self.process(context: context)
            }
        case .beginMessage(let envelope):
            beginSpool(envelope, context: context)
        case .messageData(var bytes):
            spoolBuffer.writeBuffer(&bytes)
            if spoolBuffer.readableBytes >= Self.spoolFlushThreshold { flushSpoolBuffer(context: context) }
        case .abortMessage:
            discardSpool()
        case .endMessage(let envelope, let headers):
            waiting = true
            finishSpool(envelope, headers: headers, context: context)
        }
    }

    /// The message being received or decided, for the log line of its refusal.
    private var messageQueueID: QueueID?
    private var rejectedReason: String?
    private var rejectedRecipient: String?

    /// One `reject` event per refusal reply, with the queue id of the transaction if any.
    private func logRejection(_ reply: SMTPReply) {
        var fields: [LogKey: String] = [.reply: "\(reply)"]
        if let id = session.currentQueueID ?? messageQueueID { fields[.queueID] = id.rawValue }
        messageQueueID = nil
        if let r = rejectedReason { fields[.reason] = r }
        if let r = rejectedRecipient { fields[.recipient] = r }
        rejectedReason = nil
        rejectedRecipient = nil
        logger.event(.reject, level: .notice, "refused", fields)
        SluiceMetrics.rejected(
            listener: shared.name, stage: session.isReceivingData ? "data" : "command",
            status: reply.status?.description ?? "\(reply.code)")
    }

    private func resume(_ action: SMTPServerSession.Action, context: ChannelHandlerContext) {
        waiting = false
        execute(action, context: context)
        process(context: context)
    }

    private func write(_ reply: SMTPReply, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString(reply.wireFormat)
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
    }

    // MARK: Spool

    private func beginSpool(_ envelope: Envelope, context: ChannelHandlerContext) {
        let queue = shared.queue
        let id = envelope.queueID
        let received = ReceivedHeader.make(envelope: envelope, hostname: shared.session.hostname, date: envelope.receivedAt) + "\r\n"
        spoolBuffer.clear()
        messageQueueID = envelope.queueID
        let opened = shared.fileIO.runIfActive(eventLoop: context.eventLoop) { () throws -> SpoolFile in
            let file = try queue.createSpool(for: id)
            try file.write(Array(received.utf8))
            return file
        }
        spoolChain = opened.assumeIsolated().map { file in
            self.spool = file
        }.nonisolated()
        logger.event(
            .data, "message begins",
            [.queueID: envelope.queueID.rawValue, .from: envelope.senderDescription, .helo: envelope.client.helo ?? "",
             .recipients: envelope.recipients.map { $0.address.description }.joined(separator: ",")])
    }

    private func flushSpoolBuffer(context: ChannelHandlerContext) {
        guard spoolBuffer.readableBytes > 0, let chain = spoolChain else { return }
        let bytes = spoolBuffer
        spoolBuffer = context.channel.allocator.buffer(capacity: 0)
        pendingSpoolBytes += bytes.readableBytes
        let pool = shared.fileIO
        let loop = context.eventLoop
        let next = chain.assumeIsolated().flatMap { () -> EventLoopFuture<Void> in
            guard let file = self.spool else { return loop.makeSucceededVoidFuture() }
            return pool.runIfActive(eventLoop: loop) {
                try bytes.withUnsafeReadableBytes { try file.write($0) }
            }
        }.nonisolated()
        // Success or failure (disk full): the bytes are no longer pending. A failed write
        // fails the chain, so end of data answers 451 and the spool is thrown away.
        next.assumeIsolated().whenComplete { _ in
            self.pendingSpoolBytes = max(0, self.pendingSpoolBytes - bytes.readableBytes)
            self.updateBackpressure(context: context)
        }
        spoolChain = next
    }

    private func discardSpool() {
        spoolBuffer.clear()
        pendingSpoolBytes = 0
        guard let chain = spoolChain else { return }
        spoolChain = nil
        let pool = shared.fileIO
        chain.assumeIsolated().whenComplete { _ in
            if let file = self.spool {
                self.spool = nil
                pool.submit { _ in file.discard() }
            }
        }
    }

    private func finishSpool(_ envelope: Envelope, headers: MessageHeaders, context: ChannelHandlerContext) {
        flushSpoolBuffer(context: context)
        guard let chain = spoolChain else {
            resume(session.messageFinished(.failure(SMTPError(451, .init(4, 3, 0), "Temporary local problem"))), context: context)
            return
        }
        spoolChain = nil
        let pool = shared.fileIO
        let loop = context.eventLoop
        let receiver = shared.receiver
        let logger = self.logger
        let done = chain.assumeIsolated().flatMap { () -> EventLoopFuture<(String, Int)> in
            guard let file = self.spool else {
                return loop.makeFailedFuture(SMTPError(451, .init(4, 3, 0), "Temporary local problem", reason: "no spool"))
            }
            self.spool = nil
            return pool.runIfActive(eventLoop: loop) { () throws -> (String, Int) in
                do {
                    // No fsync here: the queue commit appends the end record and fsyncs once.
                    try file.close()
                    return (file.path, file.bytesWritten)
                } catch {
                    file.discard()
                    throw error
                }
            }
        }.nonisolated().flatMap { (path, size) -> EventLoopFuture<QueueID> in
            loop.makeFutureWithTask {
                try await receiver.receive(envelope: envelope, headers: headers, spoolPath: path, size: size, logger: logger)
            }
        }
        done.assumeIsolated().whenComplete { result in
            let result = result.mapError(SMTPError.from)
            switch result {
            case .success:
                self.messageQueueID = nil
                SluiceMetrics.messageAccepted(listener: self.shared.name)
            case .failure(let e):
                self.rejectedReason = e.reason
                // The spool may still exist if the receiver refused before committing,
                // or still be open if a write failed.
                let queue = self.shared.queue
                let file = self.spool
                self.spool = nil
                pool.submit { _ in
                    file?.discard()
                    // A spool left behind is removed by the queue's recovery at the next start.
                    try? queue.discardSpool(for: envelope.queueID)
                }
            }
            self.resume(self.session.messageFinished(result), context: context)
        }
    }

    private static func describe(_ v: TLSVersion) -> String {
        switch v {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }
}
