// SMTPServerSession: the server side of an ESMTP session as a pure state
// machine (swift-nio shape: private state, events as mutating funcs that return
// actions). It reads from the connection's input buffer and tells its driver
// what to do: send a reply, run a check, spool message bytes, finish a message,
// start TLS or close. It never touches a socket, a file or a clock of its own.

import Foundation
import NIOCore
import SluiceCore

public struct SMTPServerSession: Sendable {
    public struct Configuration: Sendable {
        public var hostname: String
        public var maxMessageSize: Int
        public var maxRecipients: Int
        public var maxCommandLength = 2048
        public var maxHeaderBytes = 256 * 1024
        public var maxReceivedHeaders = 50
        public var maxErrors = 20
        public var tlsAvailable: Bool
        public var requireTLS: Bool
        public var bareLineEndings: BareLineEndingPolicy = .reject
        /// SMTP AUTH (RFC 4954): offered when `.optional` or `.required`; `.required` refuses MAIL before it;
        /// `.mtls` refuses MAIL from a client that presented no verified certificate.
        public var auth: AuthRequirement = .none
        /// Offer and accept AUTH only over TLS (the default; plaintext needs a listener to say so).
        public var authRequiresTLS = true
        /// Name the authenticated user in the Received: header (a listener's `received_auth_user:`).
        public var receivedAuthUser = false
        public var makeQueueID: @Sendable () -> QueueID = { QueueID.generate() }
        public var now: @Sendable () -> Date = { Date() }

        public init(hostname: String, maxMessageSize: Int, maxRecipients: Int, tlsAvailable: Bool, requireTLS: Bool) {
            self.hostname = hostname
            self.maxMessageSize = maxMessageSize
            self.maxRecipients = maxRecipients
            self.tlsAvailable = tlsAvailable
            self.requireTLS = requireTLS
        }
    }

    public enum Action: Sendable {
        /// Write this reply (the driver may batch replies until input runs dry: PIPELINING).
        case send(SMTPReply)
        /// Write the refusal's reply; log it (with its internal reason) and count it by stage.
        case refuse(Refusal)
        /// Write this reply, then close the connection.
        case sendAndClose(SMTPReply)
        /// Write this reply (220), then start TLS. Input already buffered was discarded.
        case startTLS(SMTPReply)
        /// Run the accept-stage sender checks, then call `senderChecked`.
        case checkSender(MailAddress?)
        /// Run the accept-stage recipient checks, then call `recipientChecked`.
        case checkRecipient(MailAddress, sender: MailAddress?)
        /// Check these credentials, then call `authenticationFinished`. Never log `secret`.
        case authenticate(user: String, secret: String, mechanism: String)
        /// A message begins: open a spool file for this envelope.
        case beginMessage(Envelope)
        /// Append these bytes to the spool file.
        case messageData(ByteBuffer)
        /// Throw the spool file away (a reply follows).
        case abortMessage
        /// The message is complete: run the message stages and the queue, then call `messageFinished`.
        case endMessage(Envelope, MessageHeaders)
    }

    /// Where in the dialogue something was refused (a bounded metrics label), and what.
    public enum Stage: String, Sendable {
        case connect, command, auth, mail, rcpt, data
    }

    public struct Refusal: Sendable {
        public var error: SMTPError
        public var stage: Stage
        /// The transaction's queue id, when there is one.
        public var queueID: QueueID?
        public var recipient: MailAddress?
    }

    struct Transaction: Sendable {
        var envelope: Envelope
        var filter: ContentFilter?
    }

    enum AuthExchange: Sendable {
        case plain
        case loginUser
        case loginPassword(user: String)
    }

    enum State: Sendable {
        case notStarted
        case authenticating(AuthExchange)
        case checkingCredentials
        case command(Transaction?)
        case checkingSender(Envelope)
        case checkingRecipient(Transaction, Recipient)
        case data(Transaction, DotDataReceiver)
        /// Reading a BDAT chunk. `failure` set: bytes are read and thrown away.
        case bdat(Transaction?, remaining: Int, last: Bool, failure: SMTPError?)
        /// End of data: the message stages and the queue are at work on this message.
        case awaitingResult(QueueID)
        case awaitingTLS
        case closed
    }

    public let configuration: Configuration
    public private(set) var client: ClientInfo
    private var state: State = .notStarted
    private var greeting: (name: String, extended: Bool)?
    private var framer: CommandLineFramer
    private var errors = 0
    private var pending: [Action] = []
    /// Set after a BDAT chunk failed until RSET/MAIL: later BDATs are refused.
    private var bdatFailed = false

    public init(configuration: Configuration, client: ClientInfo) {
        self.configuration = configuration
        self.client = client
        self.framer = CommandLineFramer(maxLength: configuration.maxCommandLength)
    }

    public var isReceivingData: Bool {
        switch state {
        case .data, .bdat: return true
        default: return false
        }
    }

    /// Between transactions, with nothing in flight: a session that may be
    /// closed (421) without losing anything when the daemon drains.
    public var isIdle: Bool {
        if case .command(nil) = state { return pending.isEmpty }
        return false
    }

    /// The queue id of the transaction in progress, for logs.
    public var currentQueueID: QueueID? {
        switch state {
        case .command(let t): return t?.envelope.queueID
        case .checkingSender(let e): return e.queueID
        case .checkingRecipient(let t, _), .data(let t, _): return t.envelope.queueID
        case .bdat(let t, _, _, _): return t?.envelope.queueID
        default: return nil
        }
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: Events from the driver

    /// The connection is open and passed the connection checks: greet.
    public mutating func start() -> Action {
        state = .command(nil)
        return .send(SMTPReply(220, nil, "\(configuration.hostname) ESMTP Sluice"))
    }

    /// The connection was refused by a connection check.
    public mutating func refuse(_ error: SMTPError) -> Action {
        state = .closed
        return .sendAndClose(error.reply)
    }

    /// Consumes input up to the next action. nil: nothing to do until more input
    /// arrives or an awaited result is delivered.
    public mutating func next(_ input: inout ByteBuffer) -> Action? {
        if !pending.isEmpty { return pending.removeFirst() }
        switch state {
        case .notStarted, .checkingSender, .checkingRecipient, .awaitingResult, .awaitingTLS, .closed, .checkingCredentials:
            return nil
        case .authenticating(let exchange):
            guard let frame = framer.next(&input) else { return nil }
            switch frame {
            case .tooLong:
                state = .command(nil)
                return error(SMTPError(500, .init(5, 5, 6), "Error: authentication line too long"))
            case .line(let bytes):
                return continueAuthentication(exchange, response: String(decoding: bytes, as: UTF8.self))
            }
        case .data(var transaction, var receiver):
            // Park the state so the copies above are unique and mutate without copy-on-write.
            state = .awaitingResult(transaction.envelope.queueID)
            while true {
                var out = ByteBuffer()
                let ended = receiver.consume(&input, into: &out)
                let chunk = out.readableBytes > 0 ? transaction.filter!.process(out) : nil
                if ended {
                    return finishMessage(transaction, chunk: chunk)
                }
                state = .data(transaction, receiver)
                if let chunk { return .messageData(chunk) }
                if input.readableBytes == 0 { return nil }
            }
        case .bdat(var transaction, let remaining, let last, let failure):
            let n = min(remaining, input.readableBytes)
            guard n > 0 || remaining == 0 else { return nil }
            let slice = input.readSlice(length: n)!
            var chunk: ByteBuffer?
            if failure == nil, transaction != nil {
                chunk = transaction!.filter!.process(slice)
            }
            if remaining - n > 0 {
                state = .bdat(transaction, remaining: remaining - n, last: last, failure: failure)
                return chunk.map { .messageData($0) } ?? nil
            }
            // Chunk complete.
            if let failure {
                state = .command(nil)
                bdatFailed = true
                return .refuse(Refusal(error: failure, stage: .data, queueID: transaction?.envelope.queueID))
            }
            guard let t = transaction else { return nil }
            if last {
                return finishMessage(t, chunk: chunk)
            }
            let received = t.filter!.size
            state = .command(t)
            let reply = SMTPReply(250, .init(2, 0, 0), "Ok: \(received) octets received")
            if let chunk { pending.append(.send(reply)); return .messageData(chunk) }
            return .send(reply)
        case .command(let transaction):
            guard let frame = framer.next(&input) else { return nil }
            switch frame {
            case .tooLong:
                return error(SMTPError(500, .init(5, 5, 6), "Error: line too long"))
            case .line(let bytes):
                do throws(SMTPError) {
                    let command = try SMTPCommandParser.parse(
                        bytes, utf8Recipients: transaction?.envelope.smtpUTF8 ?? false)
                    return handle(command, transaction: transaction, input: &input)
                } catch {
                    return self.error(error)
                }
            }
        }
    }

    public mutating func senderChecked(_ result: Result<Void, SMTPError>) -> Action {
        guard case .checkingSender(let envelope) = state else { return protocolMisuse() }
        switch result {
        case .success:
            state = .command(Transaction(envelope: envelope))
            return .send(SMTPReply(250, .init(2, 1, 0), "Ok"))
        case .failure(let e):
            state = .command(nil)
            return error(e, .mail, queueID: envelope.queueID)
        }
    }

    public mutating func recipientChecked(_ result: Result<Void, SMTPError>) -> Action {
        guard case .checkingRecipient(var transaction, let recipient) = state else { return protocolMisuse() }
        switch result {
        case .success:
            transaction.envelope.recipients.append(recipient)
            state = .command(transaction)
            return .send(SMTPReply(250, .init(2, 1, 5), "Ok"))
        case .failure(let e):
            state = .command(transaction)
            return error(e, .rcpt, queueID: transaction.envelope.queueID, recipient: recipient.address)
        }
    }

    /// The message stages and the queue are done: the reply for end of data.
    public mutating func messageFinished(_ result: Result<QueueID, SMTPError>) -> Action {
        guard case .awaitingResult(let id) = state else { return protocolMisuse() }
        state = .command(nil)
        switch result {
        case .success(let id):
            return .send(SMTPReply(250, .init(2, 0, 0), "Ok: queued as \(id)"))
        case .failure(let e):
            // Not an error of the client's: it does not count towards maxErrors.
            return .refuse(Refusal(error: e, stage: .data, queueID: id))
        }
    }

    /// The credentials were checked: 235, or the refusal.
    public mutating func authenticationFinished(_ result: Result<String, SMTPError>) -> Action {
        guard case .checkingCredentials = state else { return protocolMisuse() }
        state = .command(nil)
        switch result {
        case .success(let user):
            client.authenticatedUser = user
            return .send(SMTPReply(235, .init(2, 7, 0), "Authentication successful"))
        case .failure(let e):
            return error(e, .auth)
        }
    }

    /// TLS handshake completed: the session starts over (RFC 3207 §4.2).
    public mutating func tlsEstablished(version: String, cipher: String?, clientCertificate: ClientCertificate? = nil) {
        client.tlsVersion = version
        client.tlsCipher = cipher
        client.clientCertificate = clientCertificate
        greeting = nil
        client.helo = nil
        state = .command(nil)
    }

    /// The PROXY protocol named the real client (before the greeting).
    public mutating func clientIdentified(address: IPAddress, port: Int?) {
        client.address = address
        client.port = port
    }

    // MARK: Commands

    /// nil only when a BDAT chunk waits for its bytes.
    private mutating func handle(_ command: SMTPCommand, transaction: Transaction?, input: inout ByteBuffer) -> Action? {
        switch command {
        case .helo(let name), .ehlo(let name):
            let extended: Bool
            if case .ehlo = command { extended = true } else { extended = false }
            greeting = (name, extended)
            client.helo = name
            state = .command(nil)
            bdatFailed = false
            return .send(extended ? ehloReply() : SMTPReply(250, nil, configuration.hostname))
        case .mail(let sender, let parameters):
            guard greeting != nil else { return error(SMTPError(503, .init(5, 5, 1), "Error: send HELO/EHLO first")) }
            if configuration.requireTLS && !client.usesTLS {
                return error(SMTPError(530, .init(5, 7, 0), "Must issue a STARTTLS command first"))
            }
            if configuration.auth == .required && client.authenticatedUser == nil {
                return error(SMTPError(530, .init(5, 7, 0), "Authentication required"))
            }
            if configuration.auth == .mtls && client.clientCertificate == nil {
                let e = client.usesTLS
                    ? SMTPError(530, .init(5, 7, 0), "A client certificate is required", reason: "mtls: no client certificate presented")
                    : SMTPError(530, .init(5, 7, 0), "Must issue a STARTTLS command first", reason: "mtls: no TLS")
                return error(e)
            }
            guard transaction == nil else { return error(SMTPError(503, .init(5, 5, 1), "Error: nested MAIL command")) }
            if parameters.requireTLS && !client.usesTLS {
                return error(SMTPError(530, .init(5, 7, 10), "REQUIRETLS needs a TLS connection: issue STARTTLS first"))
            }
            if let size = parameters.size, size > configuration.maxMessageSize {
                return error(SMTPError(552, .init(5, 3, 4), "Error: message size exceeds fixed limit"))
            }
            bdatFailed = false
            var envelope = Envelope(
                queueID: configuration.makeQueueID(), sender: sender, bodyType: parameters.body,
                smtpUTF8: parameters.smtpUTF8, client: client, receivedAt: configuration.now())
            envelope.declaredSize = parameters.size
            envelope.dsnReturn = parameters.dsnReturn
            envelope.dsnEnvelopeID = parameters.envelopeID
            envelope.requireTLS = parameters.requireTLS
            state = .checkingSender(envelope)
            return .checkSender(sender)
        case .rcpt(var address, let parameters):
            if address.domain.isEmpty { address = MailAddress(localPart: address.localPart, domain: configuration.hostname) }
            guard let transaction else { return error(SMTPError(503, .init(5, 5, 1), "Error: need MAIL command")) }
            guard transaction.envelope.recipients.count < configuration.maxRecipients else {
                return .send(SMTPReply(452, .init(4, 5, 3), "Error: too many recipients"))
            }
            let recipient = Recipient(
                address: address, notify: parameters.notify, originalRecipient: parameters.originalRecipient)
            state = .checkingRecipient(transaction, recipient)
            return .checkRecipient(address, sender: transaction.envelope.sender)
        case .data:
            guard var transaction else { return error(SMTPError(503, .init(5, 5, 1), "Error: need MAIL command")) }
            guard !transaction.envelope.recipients.isEmpty else {
                return error(SMTPError(503, .init(5, 5, 1), "Error: need RCPT command"))
            }
            guard transaction.filter == nil else {
                return error(SMTPError(503, .init(5, 5, 1), "Error: DATA cannot follow BDAT"))
            }
            transaction.envelope.client = client
            transaction.filter = makeFilter()
            state = .data(transaction, DotDataReceiver())
            pending.append(.send(SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")))
            return .beginMessage(transaction.envelope)
        case .bdat(let size, let last):
            guard var t = transaction, !t.envelope.recipients.isEmpty, !bdatFailed else {
                let why =
                    bdatFailed
                    ? SMTPError(503, .init(5, 5, 1), "Error: earlier BDAT failed, send RSET")
                    : SMTPError(503, .init(5, 5, 1), transaction == nil ? "Error: need MAIL command" : "Error: need RCPT command")
                errors += 1
                state = .bdat(nil, remaining: size, last: last, failure: why)
                return next(&input)
            }
            var begin: Action?
            if t.filter == nil {
                t.envelope.client = client
                t.filter = makeFilter()
                begin = .beginMessage(t.envelope)
            }
            state = .bdat(t, remaining: size, last: last, failure: nil)
            if let begin { return begin }
            return next(&input)
        case .rset:
            let hadMessage = transaction?.filter != nil
            state = .command(nil)
            bdatFailed = false
            if hadMessage { pending.append(.send(SMTPReply(250, .init(2, 0, 0), "Ok"))); return .abortMessage }
            return .send(SMTPReply(250, .init(2, 0, 0), "Ok"))
        case .noop:
            return .send(SMTPReply(250, .init(2, 0, 0), "Ok"))
        case .quit:
            state = .closed
            if transaction?.filter != nil {
                pending.append(.sendAndClose(SMTPReply(221, .init(2, 0, 0), "Bye")))
                return .abortMessage
            }
            return .sendAndClose(SMTPReply(221, .init(2, 0, 0), "Bye"))
        case .vrfy:
            return .send(SMTPReply(252, .init(2, 0, 0), "Cannot VRFY user, but will accept message"))
        case .help:
            return .send(SMTPReply(214, .init(2, 0, 0), "See RFC 5321; Sluice supports EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS"))
        case .starttls:
            guard configuration.tlsAvailable else {
                return error(SMTPError(502, .init(5, 5, 1), "Error: STARTTLS not available"))
            }
            guard !client.usesTLS else { return error(SMTPError(503, .init(5, 5, 1), "Error: TLS already active")) }
            guard transaction == nil else {
                return error(SMTPError(503, .init(5, 5, 1), "Error: STARTTLS not allowed during a mail transaction"))
            }
            // CVE-2011-0411: anything pipelined after STARTTLS is plaintext injection.
            input.moveReaderIndex(forwardBy: input.readableBytes)
            state = .awaitingTLS
            return .startTLS(SMTPReply(220, .init(2, 0, 0), "Ready to start TLS"))
        case .auth(let mechanism, let initial):
            return startAuthentication(mechanism: mechanism, initial: initial, transaction: transaction)
        }
    }

    private var authOffered: Bool {
        configuration.auth.offersAuth && (client.usesTLS || !configuration.authRequiresTLS)
    }

    // MARK: AUTH (RFC 4954: PLAIN per RFC 4616, LOGIN)

    private mutating func startAuthentication(mechanism: String, initial: String?, transaction: Transaction?) -> Action {
        guard configuration.auth.offersAuth else {
            return error(SMTPError(502, .init(5, 5, 1), "Error: authentication not enabled on this listener"))
        }
        guard greeting?.extended == true else { return error(SMTPError(503, .init(5, 5, 1), "Error: send EHLO first")) }
        guard client.authenticatedUser == nil else { return error(SMTPError(503, .init(5, 5, 1), "Error: already authenticated")) }
        guard transaction == nil else {
            return error(SMTPError(503, .init(5, 5, 1), "Error: AUTH not allowed during a mail transaction"))
        }
        guard client.usesTLS || !configuration.authRequiresTLS else {
            return error(SMTPError(538, .init(5, 7, 11), "Encryption required for requested authentication mechanism"))
        }
        switch mechanism {
        case "PLAIN":
            guard let initial else {
                state = .authenticating(.plain)
                return .send(SMTPReply(334, nil, ""))
            }
            return continueAuthentication(.plain, response: initial)
        case "LOGIN":
            guard let initial else {
                state = .authenticating(.loginUser)
                return .send(SMTPReply(334, nil, "VXNlcm5hbWU6"))  // "Username:"
            }
            return continueAuthentication(.loginUser, response: initial)
        default:
            return error(SMTPError(504, .init(5, 5, 4), "Error: unrecognized authentication type; use PLAIN or LOGIN"))
        }
    }

    private mutating func continueAuthentication(_ exchange: AuthExchange, response: String) -> Action {
        if response == "*" {
            state = .command(nil)
            return error(SMTPError(501, .init(5, 7, 0), "Authentication aborted"))
        }
        let decoded: [UInt8]?
        if response == "=" {
            decoded = []
        } else {
            decoded = Data(base64Encoded: response).map(Array.init)
        }
        guard let decoded else {
            state = .command(nil)
            return error(SMTPError(501, .init(5, 5, 2), "Error: invalid base64 in authentication response"))
        }
        switch exchange {
        case .plain:
            // authzid NUL authcid NUL passwd; acting for someone else is not supported.
            let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
            guard parts.count == 3, let user = String(validating: parts[1], as: UTF8.self),
                let secret = String(validating: parts[2], as: UTF8.self), !user.isEmpty,
                parts[0].isEmpty || Array(parts[0]) == Array(parts[1])
            else {
                state = .command(nil)
                return error(SMTPError(535, .init(5, 7, 8), "Authentication credentials invalid"))
            }
            state = .checkingCredentials
            return .authenticate(user: user, secret: secret, mechanism: "PLAIN")
        case .loginUser:
            guard let user = String(validating: decoded, as: UTF8.self), !user.isEmpty else {
                state = .command(nil)
                return error(SMTPError(535, .init(5, 7, 8), "Authentication credentials invalid"))
            }
            state = .authenticating(.loginPassword(user: user))
            return .send(SMTPReply(334, nil, "UGFzc3dvcmQ6"))  // "Password:"
        case .loginPassword(let user):
            guard let secret = String(validating: decoded, as: UTF8.self) else {
                state = .command(nil)
                return error(SMTPError(535, .init(5, 7, 8), "Authentication credentials invalid"))
            }
            state = .checkingCredentials
            return .authenticate(user: user, secret: secret, mechanism: "LOGIN")
        }
    }

    private func makeFilter() -> ContentFilter {
        ContentFilter(
            policy: configuration.bareLineEndings, maxSize: configuration.maxMessageSize,
            maxHeaderBytes: configuration.maxHeaderBytes)
    }

    private func ehloReply() -> SMTPReply {
        var lines = [
            configuration.hostname, "PIPELINING", "SIZE \(configuration.maxMessageSize)", "8BITMIME", "SMTPUTF8",
            "ENHANCEDSTATUSCODES", "CHUNKING", "DSN",
        ]
        if configuration.tlsAvailable && !client.usesTLS { lines.append("STARTTLS") }
        // RFC 8689 §4: offered only where it can be used, on a connection under TLS.
        if client.usesTLS { lines.append("REQUIRETLS") }
        if authOffered { lines.append("AUTH PLAIN LOGIN") }
        return SMTPReply(code: 250, status: nil, lines: lines)
    }

    private mutating func finishMessage(_ transaction: Transaction, chunk: ByteBuffer?) -> Action {
        var t = transaction
        var actions: [Action] = []
        if let chunk { actions.append(.messageData(chunk)) }
        if let tail = t.filter!.finish() { actions.append(.messageData(tail)) }
        let filter = t.filter!
        if let refusal = filter.refusal ?? headerRefusal(filter.headers) {
            actions.append(.abortMessage)
            actions.append(.refuse(Refusal(error: refusal, stage: .data, queueID: t.envelope.queueID)))
            state = .command(nil)
        } else {
            t.envelope.client = client
            // RFC 8689 §5: "TLS-Required: No" asks that the recipients' TLS policies be set aside; REQUIRETLS wins.
            t.envelope.tlsPoliciesWaived = !t.envelope.requireTLS
                && filter.headers.first("TLS-Required")?.trimmingCharacters(in: .whitespaces).lowercased() == "no"
            actions.append(.endMessage(t.envelope, filter.headers))
            state = .awaitingResult(t.envelope.queueID)
        }
        pending.append(contentsOf: actions.dropFirst())
        return actions[0]
    }

    /// The end-of-data header checks of R-SMTP-5.
    private func headerRefusal(_ headers: MessageHeaders) -> SMTPError? {
        if headers.count("Received") > configuration.maxReceivedHeaders {
            return SMTPError(554, .init(5, 4, 6), "Error: too many Received headers, mail loop suspected")
        }
        if headers.count("From") > 1 {
            return SMTPError(550, .init(5, 6, 0), "Error: message has more than one From: header")
        }
        if let from = headers.first("From"), countMailboxes(inAddressList: from) > 1, headers.count("Sender") == 0 {
            return SMTPError(550, .init(5, 6, 0), "Error: From: with several addresses needs a Sender: header")
        }
        return nil
    }

    private mutating func error(
        _ e: SMTPError, _ stage: Stage = .command, queueID: QueueID? = nil, recipient: MailAddress? = nil
    ) -> Action {
        errors += 1
        if errors >= configuration.maxErrors {
            state = .closed
            return .sendAndClose(SMTPReply(421, .init(4, 7, 0), "\(configuration.hostname) Error: too many errors"))
        }
        return .refuse(Refusal(error: e, stage: stage, queueID: queueID, recipient: recipient))
    }

    private mutating func protocolMisuse() -> Action {
        state = .closed
        return .sendAndClose(SMTPReply(421, .init(4, 3, 0), "\(configuration.hostname) Error: internal state error"))
    }
}
