// What an SMTP client session takes and gives: the job (envelope, what the
// message needs of the next hop), the credentials it may send,
// the outcome of an attempt (per recipient), what a connection negotiated
// for the next session on it, and the actions the glue carries out. The
// state machine itself is SMTPClientSession.swift.

import SluiceCore

/// A username and password for AUTH to an upstream. The description never shows the password.
public struct ClientCredentials: Sendable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "\(username) (password not shown)" }
}

extension SMTPClientSession {
    /// What one session delivers: the envelope and what the message needs of the next hop.
    public struct Job: Sendable {
        public var sender: MailAddress?
        public var recipients: [MailAddress]
        public var bodyType: BodyType
        public var smtpUTF8: Bool
        public var size: Int
        /// Authenticate before MAIL with these (upstreams with `auth:`).
        public var credentials: ClientCredentials?
        /// The message asked for REQUIRETLS: only over TLS, to a server that offers it, with the parameter.
        public var requireTLS = false

        public init(
            sender: MailAddress?, recipients: [MailAddress], bodyType: BodyType, smtpUTF8: Bool, size: Int,
            credentials: ClientCredentials? = nil
        ) {
            self.sender = sender
            self.recipients = recipients
            self.bodyType = bodyType
            self.smtpUTF8 = smtpUTF8
            self.size = size
            self.credentials = credentials
        }
    }

    /// The result of one delivery attempt over one connection.
    public struct Outcome: Sendable {
        /// Recipients the server took (the message was accepted after DATA).
        public var accepted: [MailAddress] = []
        /// Recipients refused, with the reason (4xx: try again later; 5xx: give up).
        public var refused: [(MailAddress, SMTPError)] = []
        /// Set when the whole attempt failed before any recipient was decided.
        public var failure: SMTPError?
        /// The failure is the server's reply (not a connection problem or a local refusal to go on).
        public var failureFromServer = false
        /// The last reply, for the log ("250 2.0.0 Ok: queued as ...").
        public var lastReply: SMTPReply?
        public var usedTLS = false
        /// The TLS protocol and cipher suite negotiated, when TLS was used.
        public var tlsVersion: String?
        public var tlsCipher: String?
        /// What vouched for the server's certificate when the attempt's own verifier did ("DANE-EE"); nil otherwise.
        public var verifiedBy: String?
        /// The message data was sent (after it, a dropped connection may still have delivered it).
        public var dataSent = false
        /// The connection is clean (RSET answered 250) and may carry the next message.
        public var reusable = false

        public init() {}
    }

    /// What a connection negotiated, for the next session on it.
    public struct Negotiated: Sendable {
        public var extensions: Set<String>
        public var tlsActive: Bool
        public var tlsVersion: String?
        public var tlsCipher: String?
        public var verifiedBy: String?
    }

    public enum Action: Sendable {
        case send(String)
        case startTLS
        /// Stream the message (dot-stuffed), then wait for the reply.
        case sendBody
        /// Nothing to send: the next reply answers a command already sent (pipelining).
        case wait
        /// Finished: send nothing more (QUIT was sent where polite) and close.
        case done(Outcome)
    }
}
