// DNS vocabulary: the one resolver contract every lookup in Sluice goes
// through (MX and addresses for delivery; TXT for SPF, DKIM keys and DMARC),
// so that tests point all of them at one local server with fixture records.

public enum DNSRecordType: Int, Sendable, CustomStringConvertible {
    case a = 1
    case ptr = 12
    case mx = 15
    case txt = 16
    case aaaa = 28

    public var description: String {
        switch self {
        case .a: return "A"
        case .ptr: return "PTR"
        case .mx: return "MX"
        case .txt: return "TXT"
        case .aaaa: return "AAAA"
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

public enum DNSRecord: Sendable, Hashable {
    case a(String)
    case aaaa(String)
    case mx(MXRecord)
    /// A host name (reverse lookups), without the trailing dot.
    case ptr(String)
    /// The character-strings of one TXT record, in order (a receiver joins them without separators).
    case txt([String])
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

    public init(status: Status, records: [DNSRecord], ttl: Int) {
        self.status = status
        self.records = records
        self.ttl = ttl
    }

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

    public init(temporary: Bool, _ message: String) {
        self.temporary = temporary
        self.message = message
    }

    public var description: String { message }
}

public protocol DNSResolver: Sendable {
    func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer
}
