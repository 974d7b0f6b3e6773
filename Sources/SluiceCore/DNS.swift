// DNS vocabulary: the one resolver contract every lookup in Sluice goes
// through (MX and addresses for delivery; TXT for SPF, DKIM keys and DMARC;
// TLSA for DANE), so that tests point all of them at one local server with
// fixture records. Each answer says whether DNSSEC vouched for it.

public enum DNSRecordType: Int, Sendable, CustomStringConvertible {
    case a = 1
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28
    case tlsa = 52

    public var description: String {
        switch self {
        case .a: return "A"
        case .ptr: return "PTR"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
        case .tlsa: return "TLSA"
        }
    }
}

public struct MXRecord: Sendable, Hashable {
    public var preference: Int
    /// The exchange host name without the trailing dot; "" for the null MX root (RFC 7505).
    public var exchange: String

    public init(preference: Int, exchange: String) {
        self.preference = preference
        self.exchange = exchange
    }
}

/// A TLSA record (RFC 6698): which certificate a TLS server at a port must present (DANE, RFC 7672).
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    public var usage: UInt8
    /// 0 the whole certificate, 1 its SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 the data itself, 1 its SHA-256, 2 its SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// "3 1 1 a1b2…" (the data's first 8 bytes in hex), for logs.
    public var description: String {
        "\(usage) \(selector) \(matchingType) " + data.prefix(8).map { String($0, radix: 16).leftPadded(2) }.joined() + (data.count > 8 ? "…" : "")
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

/// What DNSSEC said of an answer: `secure` (validated from a trust anchor) or `insecure` (no anchor covers the name,
/// or the zone is unsigned). A bogus answer (signatures that do not validate) is no answer: a DNSError with `bogus`.
public enum DNSSecurity: Sendable, Hashable {
    case secure, insecure
}

public enum DNSRecord: Sendable, Hashable {
    case a(String)
    case aaaa(String)
    case mx(MXRecord)
    /// A host name (reverse lookups), without the trailing dot.
    case ptr(String)
    /// The character-strings of one TXT record, in order (a receiver joins them without separators).
    case txt([String])
    case tlsa(TLSARecord)
}

public struct DNSAnswer: Sendable {
    public enum Status: Sendable, Hashable {
        case ok
        /// The name does not exist.
        case nxdomain
        /// The name exists but has no record of this type.
        case noData
    }

    public var status: Status
    public var records: [DNSRecord]
    /// Seconds the answer may be cached.
    public var ttl: Int
    /// Whether DNSSEC validated it (NXDOMAIN and NODATA too: a secure denial).
    public var security: DNSSecurity

    public init(status: Status, records: [DNSRecord], ttl: Int, security: DNSSecurity = .insecure) {
        self.status = status
        self.records = records
        self.ttl = ttl
        self.security = security
    }

    public var tlsa: [TLSARecord] { records.compactMap { if case .tlsa(let t) = $0 { t } else { nil } } }

    public var mx: [MXRecord] { records.compactMap { if case .mx(let m) = $0 { m } else { nil } } }
    public var addresses: [String] {
        records.compactMap {
            switch $0 {
            case .a(let ip), .aaaa(let ip): return ip
            default: return nil
            }
        }
    }
    /// Each TXT record's strings joined, as SPF, DKIM and DMARC read them.
    public var texts: [String] { records.compactMap { if case .txt(let s) = $0 { s.joined() } else { nil } } }
}

/// A lookup that could not give an answer: `temporary` (SERVFAIL, timeout; try again later)
/// or `permanent` (REFUSED, a malformed name).
public struct DNSError: Error, Sendable, CustomStringConvertible {
    public var temporary: Bool
    public var message: String
    /// DNSSEC validation failed (RFC 4035 "bogus"): the data may be forged. Temporary too, so that a caller that does
    /// not ask retries; DANE defers the host rather than take it for "no TLSA".
    public var bogus: Bool

    public init(temporary: Bool, _ message: String, bogus: Bool = false) {
        self.temporary = temporary
        self.message = message
        self.bogus = bogus
    }

    public var description: String { message }
}

public protocol DNSResolver: Sendable {
    func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer
}
