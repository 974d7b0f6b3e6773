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
    private var needsFlush = false
    private var closing = false
    private var acquired = false
    private var refusal: SMTPError?

    // Spooling of the message in flight.
    private var spool: SpoolFile?
    private var spoolChain: EventLoopFuture<Void>?
    private var spoolBuffer = ByteBuffer()
    private var spoolFailure: (any Error)?
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
        logger[metadataKey: "client"] = "\(client.address.map(\.description) ?? "?")"
        logger[metadataKey: "listener"] = "\(shared.name)"
        self.logger = logger
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        let client = session.client
        refusal = shared.limiter.acquire(client.address)
        acquired = refusal == nil
        logger.info("connect", metadata: ["event": "connect"])
        if shared.implicitTLS {
            // Greet after the handshake: see userInboundEventTriggered.
            waiting = true
            handshaking = true
            armTimeout(context: context)
        } else {
            greet(context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if acquired { shared.limiter.release(session.client.address) }
        acquired = false
        discardSpool()
        logger.info("disconnect", metadata: ["event": "disconnect"])
        context.fireChannelInactive()
    }

    private func greet(context: ChannelHandlerContext) {
        if let refusal {
            logger.notice("connection refused", metadata: ["event": "reject", "reply": "\(refusal.reply)"])
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
                self.logger.notice("connection refused", metadata: ["event": "reject", "reason": "\(e.reason)"])
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
            logger.info("tls established", metadata: ["event": "tls", "tls.version": "\(version.map(Self.describe) ?? "?")"])
            if shared.implicitTLS && !session.isClosed && !sessionStarted {
                sessionStarted = true
                greet(context: context)
            } else {
                waiting = false
                process(context: context)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var sessionStarted = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("connection error", metadata: ["error": "\(error)"])
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
        guard !waiting || handshaking, !closing else { return }
        let amount = session.isReceivingData ? shared.dataTimeout : shared.commandTimeout
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: amount) {
            guard !self.closing else { return }
            self.logger.notice("timeout", metadata: ["event": "timeout"])
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
            if !reply.isPositive { logger.info("reply", metadata: ["event": "reject", "reply": "\(reply)"]) }
            write(reply, context: context)
        case .sendAndClose(let reply):
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
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
            } catch {
                logger.error("cannot start TLS", metadata: ["error": "\(error)"])
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
        case .checkRecipient(let recipient):
            waiting = true
            let checks = shared.checks
            let client = session.client
            let future = context.eventLoop.makeFutureWithTask { () async throws -> Void in
                try await checks.checkRecipient(recipient, sender: nil, client: client)
            }
            future.assumeIsolated().whenComplete { result in
                if case .failure(let error) = result {
                    let e = SMTPError.from(error)
                    self.logger.notice(
                        "recipient refused",
                        metadata: ["event": "reject", "recipient": "\(recipient)", "reason": "\(e.reason)"])
                }
                self.resume(self.session.recipientChecked(result.mapError(SMTPError.from)), context: context)
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
        let path = shared.queue.spoolPath(for: envelope.queueID)
        let received = ReceivedHeader.make(envelope: envelope, hostname: shared.session.hostname, date: envelope.receivedAt) + "\r\n"
        spoolFailure = nil
        spoolBuffer.clear()
        let opened = shared.fileIO.runIfActive(eventLoop: context.eventLoop) { () throws -> SpoolFile in
            let file = try SpoolFile(creating: path)
            try file.write(Array(received.utf8))
            return file
        }
        spoolChain = opened.assumeIsolated().map { file in
            self.spool = file
        }.nonisolated()
        logger.info(
            "message begins",
            metadata: ["event": "data", "queue_id": "\(envelope.queueID)", "from": "\(envelope.senderDescription)"])
    }

    private func flushSpoolBuffer(context: ChannelHandlerContext) {
        guard spoolBuffer.readableBytes > 0, let chain = spoolChain else { return }
        let bytes = spoolBuffer
        spoolBuffer = context.channel.allocator.buffer(capacity: 0)
        pendingSpoolBytes += bytes.readableBytes
        let pool = shared.fileIO
        let loop = context.eventLoop
        spoolChain = chain.assumeIsolated().flatMap { () -> EventLoopFuture<Void> in
            guard let file = self.spool else { return loop.makeSucceededVoidFuture() }
            return pool.runIfActive(eventLoop: loop) {
                try bytes.withUnsafeReadableBytes { try file.write($0) }
            }
        }.map {
            self.pendingSpoolBytes -= bytes.readableBytes
            self.updateBackpressure(context: context)
        }.nonisolated()
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
        let started = NIODeadline.now()
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
                try await receiver.receive(envelope: envelope, headers: headers, spoolPath: path, size: size)
            }
        }
        done.assumeIsolated().whenComplete { result in
            let result = result.mapError(SMTPError.from)
            var log = self.logger
            log[metadataKey: "queue_id"] = "\(envelope.queueID)"
            switch result {
            case .success:
                log.info(
                    "queued",
                    metadata: [
                        "event": "queued", "from": "\(envelope.senderDescription)",
                        "recipients": "\(envelope.recipients.count)",
                        "latency_ms": "\((NIODeadline.now() - started).nanoseconds / 1_000_000)",
                    ])
            case .failure(let e):
                log.notice("message refused", metadata: ["event": "reject", "reply": "\(e.reply)", "reason": "\(e.reason)"])
                // The spool may still exist if the receiver refused before committing.
                let path = self.shared.queue.spoolPath(for: envelope.queueID)
                pool.submit { _ in try? FileSystem.remove(path) }
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
