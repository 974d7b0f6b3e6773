// BareLineEndingPolicy: what to do with a message whose lines end in bare CR or LF.

public enum BareLineEndingPolicy: String, Sendable, Codable, CaseIterable {
    /// Refuse the message at end of data (Postfix's smtpd_forbid_bare_newline).
    case reject
    /// Turn bare CR and bare LF into CRLF.
    case normalize
}
