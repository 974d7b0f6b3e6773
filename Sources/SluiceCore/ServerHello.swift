// ServerHello: the cipher suite a TLS handshake chose, read from the
// ServerHello record (sent in clear in TLS 1.2 and 1.3: RFC 8446 §4.1.3, RFC
// 5246 §7.4.1.3). NIOSSL names the protocol version but not the cipher; the
// listener reads it from the bytes it sends, delivery from the bytes it
// receives. Pure.

/// The cipher_suite field of a TLS record carrying a ServerHello.
public enum ServerHello {
    public enum Parse: Equatable, Sendable {
        case found(UInt16)
        case incomplete
        case notServerHello
    }

    public static func cipherSuite(in bytes: [UInt8]) -> Parse {
        // Record header: type 22 (handshake), version, length; handshake header: type 2 (server_hello), length.
        guard !bytes.isEmpty else { return .incomplete }
        guard bytes[0] == 22 else { return .notServerHello }
        guard bytes.count > 5 else { return .incomplete }
        guard bytes[5] == 2 else { return .notServerHello }
        // legacy_version (2) and random (32) follow the 4-byte handshake header at 5.
        let sessionIDLength = 5 + 4 + 2 + 32
        guard bytes.count > sessionIDLength else { return .incomplete }
        let cipher = sessionIDLength + 1 + Int(bytes[sessionIDLength])
        guard bytes.count >= cipher + 2 else { return .incomplete }
        return .found(UInt16(bytes[cipher]) << 8 | UInt16(bytes[cipher + 1]))
    }
}

extension TLSCipherSuite {
    /// "TLSv1.3" for the case name NIOSSL gives ("tlsv13").
    public static func protocolName(_ caseName: String) -> String {
        switch caseName {
        case "tlsv1": return "TLSv1"
        case "tlsv11": return "TLSv1.1"
        case "tlsv12": return "TLSv1.2"
        case "tlsv13": return "TLSv1.3"
        default: return caseName
        }
    }
}
