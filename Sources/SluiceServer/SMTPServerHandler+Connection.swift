// SMTPServerHandler+Connection: the connection around the dialogue: the
// PROXY header that names the client, admission against the connection
// limits and the connection checks, the greeting (after the handshake with
// implicit TLS), TLS handshakes, and draining at shutdown.

import Logging
import NIOCore
import NIOSSL
import NIOTLS
import SluiceCore
import SluiceSMTP

extension SMTPServerHandler {
    /// The client is known: count it against the limits, log it, and greet (after the handshake with implicit TLS).
    func admit(context: ChannelHandlerContext) {
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

    func greet(context: ChannelHandlerContext) {
        phase = .running
        greeted = true
        if let refusal = limitRefusal {
            refuseConnection(refusal, context: context)
            return
        }
        let (checks, client) = (shared.checks, session.client)
        run(context: context, {
            var found = MessageVerdicts()
            try await checks.checkConnection(client, facts: &found)
            return found
        }) { result in
            switch result {
            case .success(let found):
                self.connectionFacts = found
                return self.session.start()
            case .failure(let e):
                self.logger.event(.reject, level: .notice, "connection refused", [.reply: "\(e.reply)", .reason: e.reason])
                SluiceMetrics.rejected(listener: self.shared.name, stage: "connect", status: e.reply.status?.description ?? "\(e.reply.code)")
                return self.session.refuse(e)
            }
        }
    }

    func refuseConnection(_ e: SMTPError, context: ChannelHandlerContext) {
        logger.event(.reject, level: .notice, "connection refused", [.reply: "\(e.reply)", .reason: e.reason])
        SluiceMetrics.rejected(listener: shared.name, stage: "connect", status: e.reply.status?.description ?? "\(e.reply.code)")
        execute(session.refuse(e), context: context)
        flushIfNeeded(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let version = ((try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self))?.tlsVersion).map(Self.describe) ?? "TLS"
            let cipher = tlsCipher(context: context)
            let certificate = PeerCertificate.read(context.pipeline.syncOperations)
            session.tlsEstablished(version: version, cipher: cipher?.name, clientCertificate: certificate)
            var fields: [LogKey: String] = [.tlsVersion: version]
            if let cipher { fields[.tlsCipher] = cipher.name }
            if let certificate { fields[.tlsClientCert] = "\(certificate.subject) \(certificate.fingerprint)" }
            logger.event(.tls, "tls established", fields)
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

    /// The daemon drains: a session between transactions (or still in its handshake) gets 421 now; one in a
    /// transaction finishes it first.
    func closeIfDrained(context: ChannelHandlerContext) {
        guard draining else { return }
        switch phase {
        case .handshaking: closeForShutdown(context: context)
        case .running where !waiting && session.isIdle: closeForShutdown(context: context)
        default: break
        }
    }

    func closeForShutdown(context: ChannelHandlerContext) {
        guard phase != .closing else { return }
        spool?.discard()
        write(SMTPReply(421, .init(4, 3, 2), "\(shared.session.hostname) Service shutting down, try again later"), context: context)
        close(context: context)
    }
}

extension SMTPServerHandler {
    /// The cipher suite the ServerHelloObserver read; the observer has done its work and leaves the pipeline.
    func tlsCipher(context: ChannelHandlerContext) -> TLSCipherSuite? {
        let observer: ServerHelloObserver
        do { observer = try context.pipeline.syncOperations.handler(type: ServerHelloObserver.self) } catch {
            return nil  // a pipeline without the observer (none is added on a path that never saw TLS)
        }
        context.pipeline.syncOperations.removeHandler(observer, promise: nil)
        return observer.cipherSuite.map(TLSCipherSuite.init(code:))
    }
}
