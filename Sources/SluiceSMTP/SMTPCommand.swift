// SMTPCommand: one parsed SMTP command line (RFC 5321 §4.1, RFC 3030 BDAT,
// RFC 3207 STARTTLS, RFC 4954 AUTH).

import SluiceCore

public enum SMTPCommand: Sendable, Equatable {
    case helo(String)
    case ehlo(String)
    case mail(sender: MailAddress?, parameters: MailParameters)
    case rcpt(recipient: MailAddress, parameters: RecipientParameters)
    case data
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy
    case help
    case starttls
    case auth(mechanism: String, initialResponse: String?)
}

/// ESMTP parameters of MAIL FROM (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531
/// SMTPUTF8, RFC 3461 RET/ENVID, RFC 4954 AUTH).
public struct MailParameters: Sendable, Equatable {
    public var size: Int?
    public var body: BodyType = .sevenBit
    public var smtpUTF8 = false
    public var dsnReturn: DSNReturn?
    public var envelopeID: String?
    public var auth: String?
    /// REQUIRETLS (RFC 8689).
    public var requireTLS = false

    public init() {}
}

/// ESMTP parameters of RCPT TO (RFC 3461 NOTIFY/ORCPT).
public struct RecipientParameters: Sendable, Equatable {
    public var notify: DSNNotify?
    public var originalRecipient: String?

    public init() {}
}
