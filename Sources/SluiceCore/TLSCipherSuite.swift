// TLSCipherSuite: the names and key sizes of the cipher suites Sluice's TLS
// library (BoringSSL, through NIOSSL) can negotiate, by their IANA code
// point, as OpenSSL names them (the names Postfix writes in Received:, e.g.
// "TLS_AES_256_GCM_SHA384" for TLS 1.3, "ECDHE-RSA-AES256-GCM-SHA384" before).

public struct TLSCipherSuite: Sendable, Equatable {
    public var code: UInt16
    public var name: String
    /// Symmetric key bits used / supported by the algorithm, as "(256/256 bits)" says.
    public var bits: Int

    public init(code: UInt16) {
        self.code = code
        if let known = Self.known[code] {
            (name, bits) = known
        } else {
            name = "0x" + String(code, radix: 16, uppercase: true)
            bits = 0
        }
    }

    /// The key size of a suite named as `name` gives it; nil for an unknown name.
    public static func bits(named name: String) -> Int? {
        known.values.first(where: { $0.0 == name })?.1
    }

    static let known: [UInt16: (String, Int)] = [
        0x1301: ("TLS_AES_128_GCM_SHA256", 128),
        0x1302: ("TLS_AES_256_GCM_SHA384", 256),
        0x1303: ("TLS_CHACHA20_POLY1305_SHA256", 256),
        0xC02B: ("ECDHE-ECDSA-AES128-GCM-SHA256", 128),
        0xC02C: ("ECDHE-ECDSA-AES256-GCM-SHA384", 256),
        0xC02F: ("ECDHE-RSA-AES128-GCM-SHA256", 128),
        0xC030: ("ECDHE-RSA-AES256-GCM-SHA384", 256),
        0xCCA8: ("ECDHE-RSA-CHACHA20-POLY1305", 256),
        0xCCA9: ("ECDHE-ECDSA-CHACHA20-POLY1305", 256),
        0xC009: ("ECDHE-ECDSA-AES128-SHA", 128),
        0xC00A: ("ECDHE-ECDSA-AES256-SHA", 256),
        0xC013: ("ECDHE-RSA-AES128-SHA", 128),
        0xC014: ("ECDHE-RSA-AES256-SHA", 256),
        0x009C: ("AES128-GCM-SHA256", 128),
        0x009D: ("AES256-GCM-SHA384", 256),
        0x002F: ("AES128-SHA", 128),
        0x0035: ("AES256-SHA", 256),
        0x000A: ("DES-CBC3-SHA", 168),
    ]
}
