// SMTPDeliverer: what `relay` and `send` share: one SMTP delivery attempt of
// one message to one host, with the TLS policy and credentials of the route,
// and at most N connections at once per host (or per destination domain).

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SluiceCore
import SluiceSMTP

public struct SMTPDeliverer: Sendable {
    let heloName: String
    let group: any EventLoopGroup
    let io: NIOThreadPool
    /// Verifies the certificate chain and the host name (`required`).
    let verifying: NIOSSLContext
    /// Encrypts without verifying (`opportunistic`): better than plaintext, and what MX delivery can do.
    let opportunistic: NIOSSLContext
    /// Hands the chain to the attempt's PeerCertificateVerifier (DANE).
    let custom: NIOSSLContext
    /// Connections left open after a clean transaction, for the next message to the same host (nil: none).
    let pool: SMTPConnectionPool?

    /// What vouches for a verified peer: the system's roots, and `delivery.ca_file`'s when given.
    public let trustRoots: String

    /// `caFile`: PEM roots trusted besides the system's (`delivery.ca_file`).
    public init(
        heloName: String, group: any EventLoopGroup, io: NIOThreadPool, pool: SMTPConnectionPool? = SMTPConnectionPool(), caFile: String? = nil
    ) throws {
        self.heloName = heloName
        self.pool = pool
        self.group = group
        self.io = io
        var strict = TLSConfiguration.makeClientConfiguration()
        strict.minimumTLSVersion = .tlsv12
        if let caFile { strict.additionalTrustRoots = [.file(caFile)] }
        trustRoots = caFile.map { "system roots and \($0)" } ?? "system roots"
        verifying = try NIOSSLContext(configuration: strict)
        var loose = TLSConfiguration.makeClientConfiguration()
        loose.certificateVerification = .none
        opportunistic = try NIOSSLContext(configuration: loose)
        // The chain goes to a PeerCertificateVerifier (DANE) in place of the roots; NIOSSL calls a custom verifier
        // only where verification is on.
        var byVerifier = TLSConfiguration.makeClientConfiguration()
        byVerifier.minimumTLSVersion = .tlsv12
        byVerifier.certificateVerification = .noHostnameVerification
        custom = try NIOSSLContext(configuration: byVerifier)
    }

    /// One attempt: on an idle connection to the host when there is one, else on a new one. With no
    /// recipients it is a health probe on a new connection: greeting, EHLO, STARTTLS and AUTH, then QUIT.
    /// `dialect: .lmtp` speaks LMTP (RFC 2033), each recipient with its own reply after the data.
    public func attempt(
        _ message: OutgoingMessage?, to recipients: [MailAddress], host: SMTPClient.Endpoint, tls: OutboundTLS,
        credentials: ClientCredentials? = nil, dialect: SMTPClientSession.Dialect = .smtp, verifier: (any PeerCertificateVerifier)? = nil,
        authenticate: Bool = true
    ) async -> SMTPClientSession.Outcome {
        var job = SMTPClientSession.Job(
            sender: message?.envelope.sender, recipients: recipients, bodyType: message?.envelope.bodyType ?? .sevenBit,
            smtpUTF8: message?.envelope.smtpUTF8 ?? false, size: message?.deliveredSize ?? 0, credentials: credentials)
        // REQUIRETLS (RFC 8689) over SMTP: TLS with a verified certificate (DANE's verifier, else the trust roots),
        // whatever the route's own setting; LMTP is final delivery into the mail store, not a relay hop.
        var tls = tls
        var authenticate = authenticate
        if dialect == .smtp, message?.envelope.requireTLS == true {
            job.requireTLS = true
            tls = .required
            authenticate = true
        }
        let payload = SMTPClient.Payload(
            bodyPath: message?.bodyPath ?? "/dev/null", bodyOffset: message?.bodyOffset ?? 0, bodyLength: message?.bodyLength ?? 0,
            prefix: message?.prefixBytes ?? [], timeout: message == nil ? .seconds(30) : .minutes(5))
        // A connection verified one way is not reused for a message that asks another (DANE records change).
        let key = "\(dialect) \(host) \(tls) \(authenticate) \(credentials?.username ?? "") \(verifier.map { "\($0)" } ?? "")"
        // What vouches for the peer when the trust roots do: the context (and a reused connection's key) says so.
        let byRoots = verifier == nil && tls == .required && authenticate
        func vouched(_ o: SMTPClientSession.Outcome) -> SMTPClientSession.Outcome {
            var o = o
            if byRoots && o.usedTLS && o.verifiedBy == nil { o.verifiedBy = trustRoots }
            return o
        }
        let reuse = message != nil ? pool : nil
        if let reuse, let idle = reuse.take(key) {
            var session = SMTPClientSession(continuing: idle.negotiated, heloName: heloName, tls: tls, job: job)
            session.keepOpen = true
            session.dialect = dialect
            if let outcome = await SMTPClient.deliver(on: idle.channel, session: session, payload: payload) {
                // A cached connection that died before the data was sent: nothing happened; use a new one.
                if outcome.failure == nil || outcome.dataSent { return vouched(outcome) }
            }
        }
        var session = SMTPClientSession(heloName: heloName, tls: tls, job: job)
        session.keepOpen = reuse != nil
        session.dialect = dialect
        // `authenticate: false` with tls required: encrypted, unauthenticated (DANE with no usable TLSA record).
        let context = verifier != nil ? custom : byRoots ? verifying : opportunistic
        return vouched(await SMTPClient.deliver(
            to: host, session: session, tls: context, verifier: verifier, payload: payload, group: group, io: io, pool: reuse, poolKey: key))
    }
}

extension SMTPClientSession.Outcome {
    /// The host this outcome is about, with what its transport did (`verifiedBy` as the deliverer recorded it).
    public func remote(_ host: SMTPClient.Endpoint) -> RemoteEnd { remote(host, verifiedBy: verifiedBy, policy: nil) }

    /// The host this outcome is about: `verifiedBy` what vouched for the peer (nil: unverified), `policy` the
    /// destination's TLS policy (for `send`).
    public func remote(_ host: SMTPClient.Endpoint, verifiedBy verified: String?, policy: String?) -> RemoteEnd {
        if let path = host.unixPath {
            return RemoteEnd(name: "unix:\(path)", transport: TransportFacts(tlsVersion: usedTLS ? tlsVersion ?? "TLS" : nil, tlsCipher: tlsCipher))
        }
        return RemoteEnd(
            name: host.serverName ?? host.host, address: host.host, port: host.port,
            transport: TransportFacts(tlsVersion: usedTLS ? tlsVersion ?? "TLS" : nil, tlsCipher: tlsCipher, verifiedBy: verified, policy: policy))
    }

    /// Each recipient's result: those refused with the server's reply, the others delivered with its last reply.
    public func results(for recipients: [MailAddress], remote: RemoteEnd, context: String) -> DeliveryReport {
        var results: [MailAddress: RecipientResult] = [:]
        if let failure {
            for r in recipients {
                results[r] = RecipientResult(SMTPError(failure.reply, reason: "\(context): \(failure.reason)"), remote: remote, fromRemote: failureFromServer)
            }
        } else {
            for (r, e) in refused { results[r] = RecipientResult(SMTPError(e.reply, reason: "\(context): \(e.reason)"), remote: remote, fromRemote: true) }
        }
        let delivered = RecipientResult(status: .delivered, reply: lastReply, remote: remote, fromRemote: true)
        let said = failure?.reply ?? lastReply
        return DeliveryReport(results: results, delivered: delivered, detail: "\(context) (\(remote.transport)): \(said.map { "\($0)" } ?? "")")
    }
}

/// At most `limit` holders per key at once (connections per host, deliveries per domain); the rest wait in order.
public actor KeyedLimiter {
    let limit: Int
    private var inUse: [String: Int] = [:]
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init(limit: Int) { self.limit = max(1, limit) }

    public func acquire(_ key: String) async {
        if inUse[key, default: 0] < limit {
            inUse[key, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    public func release(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.resume()  // the slot passes straight to the next waiter
        } else {
            inUse[key, default: 1] -= 1
            if inUse[key] == 0 { inUse[key] = nil }
        }
    }

    public func withSlot<T: Sendable>(_ key: String, _ body: @Sendable () async -> T) async -> T {
        await acquire(key)
        let result = await body()
        release(key)
        return result
    }
}

/// One KeyedLimiter per name and limit (an upstream pool, an LMTP server): a reload that changes the limit starts a
/// new limiter, one that keeps it keeps the waiting order.
public final class LimiterTable: Sendable {
    private let limiters = NIOLockedValueBox<[String: KeyedLimiter]>([:])

    public init() {}

    public func limiter(_ name: String, limit: Int) -> KeyedLimiter {
        limiters.withLockedValue { map in
            let key = "\(name) \(limit)"
            if let l = map[key] { return l }
            let l = KeyedLimiter(limit: limit)
            map[key] = l
            return l
        }
    }
}
