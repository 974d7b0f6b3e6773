// SMTPClientSession: the client side of one SMTP delivery as a pure state
// machine: greeting, EHLO (HELO fallback), STARTTLS as the TLS policy says,
// MAIL with the parameters the message needs and the server offers, RCPT for
// each recipient, DATA, QUIT. It never sends 8-bit or UTF-8 mail to a server
// that did not offer 8BITMIME/SMTPUTF8: those recipients fail clearly instead.
// With credentials it authenticates (AUTH PLAIN, else LOGIN) after TLS, and
// never sends them over a plaintext connection unless TLS is `none`. To a
// server that offers PIPELINING (RFC 2920) MAIL, every RCPT and DATA go in
// one write and their replies are read in order; a connection kept for the
// next message is reused straight after the end-of-data reply (RFC 5321
// §4.1.1.4: the server is ready for MAIL), with RSET only after a failure.
// As an LMTP client (RFC 2033) it says LHLO and reads one reply per accepted
// recipient after the data: each recipient's own outcome; a connection lost
// between them leaves the ones without a final reply to be tried again.

import Foundation
import SluiceCore

public struct SMTPClientSession: Sendable {
    enum State: Sendable {
        case greeting, ehlo, helo, startTLS, ehloAfterTLS, authPlain, authLogin, authLoginUser, authLoginPassword
        case mail, rcpt(Int), data, body, reset, quit, finished
        /// LMTP: the data was sent; the reply awaited is for accepted recipient number n.
        case lmtpReplies(Int)
        /// MAIL, the RCPTs and DATA were sent at once; the reply awaited is for command number n (0 = MAIL).
        case pipelined(Int)
    }

    /// SMTP (RFC 5321) or LMTP (RFC 2033: LHLO, and a reply per recipient after the data).
    public enum Dialect: Sendable {
        case smtp, lmtp
    }

    public let heloName: String
    public let tls: OutboundTLS
    public let job: Job
    public var dialect: Dialect = .smtp
    /// End a good transaction with RSET instead of QUIT, leaving the connection open for the next one.
    public var keepOpen = false
    private var state: State = .greeting
    private var extensions: Set<String> = []
    private var tlsActive = false
    /// The server said 220 to STARTTLS and the TLS handshake has not finished.
    private var handshaking = false
    private var outcome = Outcome()
    private var accepting: [MailAddress] = []

    public init(heloName: String, tls: OutboundTLS, job: Job) {
        self.heloName = heloName
        self.tls = tls
        self.job = job
    }

    /// A session on a connection a previous session left open (greeted, TLS and AUTH done).
    public init(continuing negotiated: Negotiated, heloName: String, tls: OutboundTLS, job: Job) {
        self.init(heloName: heloName, tls: tls, job: job)
        extensions = negotiated.extensions
        tlsActive = negotiated.tlsActive
        outcome.usedTLS = negotiated.tlsActive
        outcome.tlsVersion = negotiated.tlsVersion
        outcome.tlsCipher = negotiated.tlsCipher
        outcome.verifiedBy = negotiated.verifiedBy
    }

    /// The first command of a continuing session.
    public mutating func start() -> Action { mail() }

    public var negotiated: Negotiated {
        Negotiated(
            extensions: extensions, tlsActive: tlsActive, tlsVersion: outcome.tlsVersion, tlsCipher: outcome.tlsCipher,
            verifiedBy: outcome.verifiedBy)
    }

    /// The connection failed (refused, reset, timed out, TLS error).
    public mutating func connectionFailed(_ why: String) -> Action {
        if handshaking {
            // An unverifiable certificate or no common cipher: X.7.5 cryptographic failure (RFC 3463), never 4.4.1,
            // so that the log and the DSN say the transport's security is what failed.
            handshaking = false
            return fail(SMTPError(451, .init(4, 7, 5), "TLS handshake failed: \(why)", reason: why))
        }
        let e = SMTPError(451, .init(4, 4, 1), "Connection problem: \(why)", reason: why)
        if case .lmtpReplies(let n) = state {
            // LMTP: the recipients already answered keep their answers; the rest are tried again.
            outcome.refused += accepting[n...].map { ($0, e) }
            accepting = []
            return finish()
        }
        return fail(e)
    }

    /// The greeting command of the dialect.
    private var hello: String { dialect == .lmtp ? "LHLO" : "EHLO" }

    /// The handshake finished; `version` and `cipher` as the TLS layer names them ("TLSv1.3"); `verifiedBy` what
    /// vouched for the certificate when the attempt's own verifier did.
    public mutating func tlsEstablished(version: String? = nil, cipher: String? = nil, verifiedBy: String? = nil) -> Action {
        tlsActive = true
        handshaking = false
        outcome.usedTLS = true
        outcome.tlsVersion = version
        outcome.tlsCipher = cipher
        outcome.verifiedBy = verifiedBy
        state = .ehloAfterTLS
        return .send("\(hello) \(heloName)\r\n")
    }

    public mutating func received(_ reply: SMTPReply) -> Action {
        // The reply worth logging is the last one before RSET or QUIT ("250 ... queued as ...").
        switch state {
        case .quit, .reset: break
        default: outcome.lastReply = reply
        }
        switch state {
        case .greeting:
            guard reply.code == 220 else { return fail(from: reply, "greeting") }
            state = .ehlo
            return .send("\(hello) \(heloName)\r\n")
        case .ehlo, .ehloAfterTLS:
            if reply.code != 250 {
                if case .ehlo = state, reply.code >= 500, dialect == .smtp {
                    state = .helo
                    return .send("HELO \(heloName)\r\n")
                }
                return fail(from: reply, hello)
            }
            extensions = Set(reply.lines.dropFirst().map { $0.uppercased() })
            if !tlsActive && tls != .none && offers("STARTTLS") {
                state = .startTLS
                return .send("STARTTLS\r\n")
            }
            if !tlsActive && tls == .required {
                return fail(SMTPError(454, .init(4, 7, 10), "TLS required but the server does not offer STARTTLS"))
            }
            return authenticateOrMail()
        case .helo:
            guard reply.code == 250 else { return fail(from: reply, "HELO") }
            if tls == .required {
                return fail(SMTPError(454, .init(4, 7, 10), "TLS required but the server does not speak ESMTP"))
            }
            return authenticateOrMail()
        case .startTLS:
            if reply.code == 220 {
                handshaking = true
                return .startTLS
            }
            if tls == .required { return fail(from: reply, "STARTTLS") }
            return authenticateOrMail()  // opportunistic: go on in plaintext
        case .authPlain, .authLoginPassword:
            guard reply.code == 235 else { return authFailed(reply) }
            return mail()
        case .authLogin:
            guard reply.code == 334, let c = job.credentials else { return authFailed(reply) }
            state = .authLoginUser
            return .send(Data(c.username.utf8).base64EncodedString() + "\r\n")
        case .authLoginUser:
            guard reply.code == 334, let c = job.credentials else { return authFailed(reply) }
            state = .authLoginPassword
            return .send(Data(c.password.utf8).base64EncodedString() + "\r\n")
        case .mail:
            guard reply.code == 250 else { return fail(from: reply, "MAIL FROM") }
            return nextRecipient(0)
        case .rcpt(let i):
            if reply.code == 250 || reply.code == 251 {
                accepting.append(job.recipients[i])
            } else {
                outcome.refused.append((job.recipients[i], error(from: reply, "RCPT TO")))
            }
            return nextRecipient(i + 1)
        case .data:
            guard reply.code == 354 else { return failAccepting(from: reply, "DATA") }
            state = .body
            outcome.dataSent = true
            return .sendBody
        case .pipelined(let n):
            return pipelinedReply(reply, command: n)
        case .body where dialect == .lmtp:
            return lmtpReply(reply, 0)
        case .lmtpReplies(let n):
            return lmtpReply(reply, n)
        case .body:
            guard reply.code == 250 else { return failAccepting(from: reply, "end of data") }
            outcome.accepted = accepting
            if keepOpen {
                // The transaction is over and the server ready for the next MAIL: no RSET needed.
                outcome.reusable = true
                return finish()
            }
            return endTransaction()
        case .reset:
            if reply.code == 250 {
                outcome.reusable = true
                return finish()
            }
            state = .quit
            return .send("QUIT\r\n")
        case .quit:
            return finish()
        case .finished:
            return .done(outcome)
        }
    }

    private func offers(_ keyword: String) -> Bool {
        extensions.contains { $0 == keyword || $0.hasPrefix(keyword + " ") }
    }

    /// The mechanisms the server lists in "AUTH PLAIN LOGIN" (or the old "AUTH=LOGIN").
    private var authMechanisms: Set<String> {
        var out: Set<String> = []
        for e in extensions where e.hasPrefix("AUTH ") || e.hasPrefix("AUTH=") {
            out.formUnion(e.dropFirst(5).split(separator: " ").map(String.init))
        }
        return out
    }

    private mutating func authenticateOrMail() -> Action {
        guard let c = job.credentials else { return mail() }
        if !tlsActive && tls != .none {
            return fail(SMTPError(454, .init(4, 7, 10), "Not sending credentials without TLS: the server did not start TLS"))
        }
        let mechanisms = authMechanisms
        if mechanisms.contains("PLAIN") {
            state = .authPlain
            let token = Data(([0] + Array(c.username.utf8) + [0] + Array(c.password.utf8)) as [UInt8]).base64EncodedString()
            return .send("AUTH PLAIN \(token)\r\n")
        }
        if mechanisms.contains("LOGIN") {
            state = .authLogin
            return .send("AUTH LOGIN\r\n")
        }
        return fail(SMTPError(454, .init(4, 7, 0), "The server offers no AUTH PLAIN or LOGIN; credentials are configured"))
    }

    /// Refused credentials are a configuration problem on one side or the other: the mail waits
    /// (4.7.8, like Postfix's SASL failures) rather than bouncing while an administrator fixes it.
    private mutating func authFailed(_ reply: SMTPReply) -> Action {
        fail(SMTPError(454, .init(4, 7, 8), "Authentication to the server failed", reason: "AUTH: \(reply)"))
    }

    private mutating func mail() -> Action {
        if job.recipients.isEmpty {
            // A probe: the server greeted, spoke EHLO, TLS and AUTH as configured. Done.
            state = .quit
            return .send("QUIT\r\n")
        }
        if job.smtpUTF8 && !offers("SMTPUTF8") {
            return failAll(SMTPError(553, .init(5, 6, 7), "The next hop does not support SMTPUTF8; the addresses need it"))
        }
        if job.bodyType == .eightBitMIME && !offers("8BITMIME") {
            return failAll(SMTPError(554, .init(5, 6, 3), "The next hop does not support 8BITMIME; the message needs it"))
        }
        if job.requireTLS {
            if !tlsActive { return fail(SMTPError(454, .init(4, 7, 10), "REQUIRETLS: the connection to the next hop is not under TLS")) }
            if !offers("REQUIRETLS") {
                return failAll(SMTPError(550, .init(5, 7, 30), "REQUIRETLS support required: the next hop does not offer it"))
            }
        }
        var command = "MAIL FROM:<\(job.sender?.description ?? "")>"
        if offers("SIZE") { command += " SIZE=\(job.size)" }
        if job.bodyType == .eightBitMIME { command += " BODY=8BITMIME" }
        if job.smtpUTF8 { command += " SMTPUTF8" }
        if job.requireTLS { command += " REQUIRETLS" }
        command += "\r\n"
        if offers("PIPELINING") {
            for r in job.recipients { command += "RCPT TO:<\(r)>\r\n" }
            state = .pipelined(0)
            return .send(command + "DATA\r\n")
        }
        state = .mail
        return .send(command)
    }

    /// The replies to a pipelined MAIL, RCPTs and DATA, in the order they were sent.
    private mutating func pipelinedReply(_ reply: SMTPReply, command n: Int) -> Action {
        let recipients = job.recipients.count
        if n == 0 {
            // MAIL refused: the replies to RCPT and DATA will be errors too; nothing is sent and the connection closes.
            guard reply.code == 250 else { return fail(from: reply, "MAIL FROM") }
            state = .pipelined(1)
            return .wait
        }
        if n <= recipients {
            if reply.code == 250 || reply.code == 251 {
                accepting.append(job.recipients[n - 1])
            } else {
                outcome.refused.append((job.recipients[n - 1], error(from: reply, "RCPT TO")))
            }
            state = .pipelined(n + 1)
            return .wait
        }
        // DATA.
        if reply.code == 354 {
            guard !accepting.isEmpty else {
                // A server that takes DATA with no recipient (RFC 2920 says it must not): end the empty message
                // without sending it, and close.
                outcome.lastReply = reply
                return finish()
            }
            state = .body
            outcome.dataSent = true
            return .sendBody
        }
        return accepting.isEmpty ? endTransaction() : failAccepting(from: reply, "DATA")
    }

    /// LMTP's reply for accepted recipient n (RFC 2033 §4.2): its own outcome, in RCPT order.
    private mutating func lmtpReply(_ reply: SMTPReply, _ n: Int) -> Action {
        if reply.code == 250 {
            outcome.accepted.append(accepting[n])
        } else {
            outcome.refused.append((accepting[n], error(from: reply, "end of data")))
        }
        guard n + 1 == accepting.count else {
            state = .lmtpReplies(n + 1)
            return .wait
        }
        accepting = []
        if keepOpen {
            outcome.reusable = true
            return finish()
        }
        return endTransaction()
    }

    private mutating func nextRecipient(_ i: Int) -> Action {
        if i < job.recipients.count {
            state = .rcpt(i)
            return .send("RCPT TO:<\(job.recipients[i])>\r\n")
        }
        guard !accepting.isEmpty else { return endTransaction() }
        state = .data
        return .send("DATA\r\n")
    }

    /// QUIT, or with keepOpen RSET so that the connection can carry the next message.
    private mutating func endTransaction() -> Action {
        if keepOpen && !job.recipients.isEmpty {
            state = .reset
            return .send("RSET\r\n")
        }
        state = .quit
        return .send("QUIT\r\n")
    }

    private func error(from reply: SMTPReply, _ step: String) -> SMTPError {
        SMTPError(reply, reason: "\(step): \(reply)")
    }

    private mutating func fail(from reply: SMTPReply, _ step: String) -> Action {
        outcome.failureFromServer = true
        return fail(error(from: reply, step))
    }

    /// The whole attempt failed: nothing was decided for any recipient.
    private mutating func fail(_ e: SMTPError) -> Action {
        outcome.failure = e
        return finish()
    }

    /// Every recipient fails with this (the message cannot go to this server at all).
    private mutating func failAll(_ e: SMTPError) -> Action {
        outcome.refused = job.recipients.map { ($0, e) }
        state = .quit
        return .send("QUIT\r\n")
    }

    /// DATA or the message was refused: the recipients accepted so far fail with it.
    private mutating func failAccepting(from reply: SMTPReply, _ step: String) -> Action {
        let e = error(from: reply, step)
        outcome.refused += accepting.map { ($0, e) }
        accepting = []
        state = .quit
        return .send("QUIT\r\n")
    }

    private mutating func finish() -> Action {
        state = .finished
        return .done(outcome)
    }
}
