// The DNS lists' answer about a connection's client, as a verdict the rules
// read (`dnsbl: NAME`, `dnswl: NAME`), the log shows and the queue keeps.

import SluiceCore

public struct DNSListHit: Sendable, Codable, Hashable {
    /// The answer that counted ("127.0.0.2").
    public var code: String
    /// The list's TXT record for the address (its reason, often a URL), if it has one.
    public var text: String?
    /// What was listed: "client 192.0.2.1", "sender domain spam.example", "HELO spam.example".
    public var listed: String?

    public init(code: String, text: String?, listed: String? = nil) {
        self.code = code
        self.text = text
        self.listed = listed
    }

    /// "client 192.0.2.1 is listed by zen: reason", printable ASCII on one line (a TXT record is the list's text, not ours).
    public func refusalText(list: String) -> String {
        var out = "\(listed ?? "client") is listed by \(list)"
        if let text { out += ": " + text }
        return String(String.UnicodeScalarView(out.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(300)))
    }
}

public struct DNSListResults: Verdict, Hashable {
    public static let name = "dns_lists"
    /// The lists that listed the client, by name.
    public var hits: [String: DNSListHit] = [:]
    /// Lists that could not be asked (SERVFAIL, timeout): counted as not listed, named here and logged.
    public var unavailable: [String] = []

    public init() {}

    public var forQueue: DNSListResults { self }

    /// "zen=127.0.0.2" for logs.
    public var summary: String {
        (hits.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.code)" } + unavailable.sorted().map { "\($0)=unavailable" })
            .joined(separator: " ")
    }
}
