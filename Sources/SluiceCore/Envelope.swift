// Envelope: what the SMTP session learned about a message besides its bytes:
// the client, the sender, the recipients with their DSN parameters, and the
// ESMTP parameters that must travel to delivery and bounces.

import Foundation

/// Who connected and how, as known at the time the message was accepted.
public struct ClientInfo: Sendable, Hashable, Codable {
    public var address: IPAddress?
    public var port: Int?
    public var reverseName: String?
    public var helo: String?
    public var listener: String
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var authenticatedUser: String?
    /// The certificate the client presented and the listener verified (listeners with `client_ca:`).
    public var clientCertificate: ClientCertificate?

    public init(address: IPAddress?, port: Int? = nil, listener: String) {
        self.address = address
        self.port = port
        self.listener = listener
    }

    public var usesTLS: Bool { tlsVersion != nil }
}

/// DSN NOTIFY values (RFC 3461).
public struct DSNNotify: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let never = DSNNotify(rawValue: 1)
    public static let success = DSNNotify(rawValue: 2)
    public static let failure = DSNNotify(rawValue: 4)
    public static let delay = DSNNotify(rawValue: 8)
}

public struct Recipient: Sendable, Hashable, Codable {
    public var address: MailAddress
    public var notify: DSNNotify?
    /// ORCPT as received ("rfc822;user@example"), xtext-decoded.
    public var originalRecipient: String?

    public init(address: MailAddress, notify: DSNNotify? = nil, originalRecipient: String? = nil) {
        self.address = address
        self.notify = notify
        self.originalRecipient = originalRecipient
    }
}

public enum BodyType: String, Sendable, Codable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    case binaryMIME = "BINARYMIME"
}

public enum DSNReturn: String, Sendable, Codable {
    case full = "FULL"
    case headers = "HDRS"
}

public struct Envelope: Sendable, Codable {
    public var queueID: QueueID
    /// nil is the null reverse path "<>" (bounces).
    public var sender: MailAddress?
    public var recipients: [Recipient]
    public var bodyType: BodyType
    public var smtpUTF8: Bool
    public var declaredSize: Int?
    public var dsnReturn: DSNReturn?
    public var dsnEnvelopeID: String?
    public var client: ClientInfo
    public var receivedAt: Date
    /// `MAIL FROM ... REQUIRETLS` (RFC 8689): every hop over TLS with a verified certificate to a next hop that
    /// offers REQUIRETLS, or not at all. Absent (false) in queue files written before it.
    public var requireTLS: Bool {
        get { requireTLSParameter ?? false }
        set { requireTLSParameter = newValue ? true : nil }
    }
    private var requireTLSParameter: Bool?
    /// The message says `TLS-Required: No` (RFC 8689 §5): what the recipient domain publishes (MTA-STS, DANE) is set
    /// aside; the administrator's own tls_policy levels still hold. Absent (false) in queue files written before it.
    public var tlsPoliciesWaived: Bool {
        get { tlsPoliciesWaivedHeader ?? false }
        set { tlsPoliciesWaivedHeader = newValue ? true : nil }
    }
    private var tlsPoliciesWaivedHeader: Bool?

    public init(
        queueID: QueueID, sender: MailAddress?, recipients: [Recipient] = [], bodyType: BodyType = .sevenBit,
        smtpUTF8: Bool = false, client: ClientInfo, receivedAt: Date = Date()
    ) {
        self.queueID = queueID
        self.sender = sender
        self.recipients = recipients
        self.bodyType = bodyType
        self.smtpUTF8 = smtpUTF8
        self.client = client
        self.receivedAt = receivedAt
    }

    public var senderDescription: String { sender.map { "<\($0)>" } ?? "<>" }
}
