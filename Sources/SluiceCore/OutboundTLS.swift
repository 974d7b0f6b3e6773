// OutboundTLS: how Sluice uses TLS towards a next hop (an upstream's `tls:`,
// `delivery.send_tls`); configuration parses into it, delivery acts on it.

public enum OutboundTLS: String, Sendable, Codable, CaseIterable {
    /// Verify the certificate and host name; no TLS, no delivery.
    case required
    /// Use STARTTLS when offered, without verification; else plaintext.
    case opportunistic
    case none
}
