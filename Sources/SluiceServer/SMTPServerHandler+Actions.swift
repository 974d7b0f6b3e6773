// SMTPServerHandler+Actions: how the handler carries out the session's
// actions: replies, the async checks and AUTH (input paused meanwhile),
// STARTTLS, and the spool from the first byte of DATA to the receiver's answer.

import Logging
import NIOCore
import NIOSSL
import SluiceCore
import SluiceSMTP

extension SMTPServerHandler {
    func execute(_ action: SMTPServerSession.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let reply):
            if !reply.isPositive { logRefusal(reply, stage: session.isReceivingData ? .data : .command) }
            write(reply, context: context)
        case .refuse(let r):
            logRefusal(r.error.reply, stage: r.stage, reason: r.error.reason, queueID: r.queueID, recipient: r.recipient)
            write(r.error.reply, context: context)
        case .sendAndClose(let reply):
            if !reply.isPositive { logRefusal(reply, stage: .command) }
            write(reply, context: context)
            close(context: context)
        case .startTLS(let reply):
            startTLS(reply, context: context)
        case .checkSender(let sender):
            // A new transaction: what checks found about the last one's sender and recipients is forgotten.
            let (checks, client, facts) = (shared.checks, session.client, MessageVerdicts())
            run(context: context, {
                var found = facts
                try await checks.checkSender(sender, client: client, facts: &found)
                return found
            }) { result in
                if case .success(let found) = result { self.transactionFacts = found }
                return self.session.senderChecked(result.map { _ in () })
            }
        case .checkRecipient(let recipient, let sender):
            let (checks, client, facts) = (shared.checks, session.client, transactionFacts)
            run(context: context, {
                var found = facts
                try await checks.checkRecipient(recipient, sender: sender, client: client, facts: &found)
                return found
            }) { result in
                // A refused recipient's facts are not the message's.
                if case .success(let found) = result { self.transactionFacts = found }
                return self.session.recipientChecked(result.map { _ in () })
            }
        case .authenticate(let user, let secret, let mechanism):
            authenticate(user: user, secret: secret, mechanism: mechanism, context: context)
        case .beginMessage(let envelope):
            let received = ReceivedHeader.make(
                envelope: envelope, hostname: shared.session.hostname, date: envelope.receivedAt, showsUser: shared.session.receivedAuthUser) + "\r\n"
            spool?.begin(envelope.queueID, first: Array(received.utf8))
            logger.event(
                .data, "message begins",
                [.queueID: envelope.queueID.rawValue, .from: envelope.senderDescription, .helo: envelope.client.helo ?? "",
                 .recipients: envelope.recipients.map { $0.address.description }.joined(separator: ",")])
        case .messageData(var bytes):
            spool?.append(&bytes)
        case .abortMessage:
            spool?.discard()
        case .endMessage(let envelope, let headers):
            receive(envelope, headers: headers, context: context)
        }
    }

    /// Runs async work (a check, the message stages) with input paused, then feeds its result to the session.
    func run<T: Sendable>(
        context: ChannelHandlerContext, _ work: @escaping @Sendable () async throws -> T,
        then: @escaping (Result<T, SMTPError>) -> SMTPServerSession.Action
    ) {
        waiting = true
        context.eventLoop.makeFutureWithTask(work).assumeIsolated().whenComplete { result in
            self.waiting = false
            self.execute(then(result.mapError(SMTPError.from)), context: context)
            self.process(context: context)
        }
    }

    private func startTLS(_ reply: SMTPReply, context: ChannelHandlerContext) {
        guard let tls = shared.tls else {
            write(SMTPReply(454, .init(4, 7, 0), "TLS not available"), context: context)
            return
        }
        write(reply, context: context)
        context.flush()
        needsFlush = false
        phase = .handshaking
        // Commands pipelined before the handshake are discarded (CVE-2011-0411).
        input.clear()
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current), position: .first)
            // Between the socket and the TLS handler: it reads the cipher suite from the ServerHello.
            try context.pipeline.syncOperations.addHandler(ServerHelloObserver(), position: .first)
        } catch {
            logger.event(.error, level: .error, "cannot start TLS", [.error: "\(error)"])
            context.close(promise: nil)
        }
    }

    private func authenticate(user: String, secret: String, mechanism: String, context: ChannelHandlerContext) {
        guard let authenticator = shared.authenticator else {
            execute(session.authenticationFinished(.failure(SMTPError(454, .init(4, 7, 0), "Temporary authentication failure"))), context: context)
            return
        }
        let client = session.client
        run(context: context, { try await authenticator.authenticate(user: user, secret: secret, client: client) }) { result in
            switch result {
            case .success(let name):
                self.logger[.user] = name
                self.logger.event(.auth, "authenticated", [.mechanism: mechanism])
            case .failure(let e):
                // The user name is logged (it is not a secret); the secret never is.
                self.logger.event(.auth, level: .notice, "authentication failed", [.user: user, .mechanism: mechanism, .reply: "\(e.reply)"])
            }
            return self.session.authenticationFinished(result)
        }
    }

    /// End of data: the spool is closed and the message goes to the receiver (stages, queue); its answer is the reply.
    private func receive(_ envelope: Envelope, headers: MessageHeaders, context: ChannelHandlerContext) {
        guard let spool else { return }
        waiting = true
        let (receiver, logger, loop) = (shared.receiver, self.logger, context.eventLoop)
        var facts = connectionFacts
        facts.merge(transactionFacts)
        let found = facts
        spool.finish().flatMap { spooled -> EventLoopFuture<QueueID> in
            loop.makeFutureWithTask {
                try await receiver.receive(
                    envelope: envelope, headers: headers, spoolPath: spooled.path, size: spooled.size, facts: found, logger: logger)
            }
        }.assumeIsolated().whenComplete { result in
            if case .success = result {
                SluiceMetrics.messageAccepted(listener: self.shared.name)
            } else {
                // Refused before the commit, or a write failed: nothing of it stays in the queue.
                spool.discard(envelope.queueID)
            }
            self.waiting = false
            self.execute(self.session.messageFinished(result.mapError(SMTPError.from)), context: context)
            self.process(context: context)
        }
    }
}
