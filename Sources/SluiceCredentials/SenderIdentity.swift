// SenderIdentity: who may use which sender addresses (R-AUTH-2). An allow
// list holds domains ("example.test", or ".example.test" for subdomains) and
// addresses ("billing@example.test"); comparison is case-insensitive on the
// domain and exact (lowercased) on the local part.

import SluiceCore

public struct SenderAllowList: Sendable, Equatable {
    public let entries: [String]

    public init(_ entries: [String]) {
        self.entries = entries.map { $0.lowercased().trimmingTrailingDot() }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func allows(localPart: String, domain: String) -> Bool {
        let d = domain.lowercased().trimmingTrailingDot()
        let address = "\(localPart.lowercased())@\(d)"
        return entries.contains { entry in
            if entry.contains("@") { return entry == address }
            if entry.hasPrefix(".") { return d.hasSuffix(entry) }
            if entry.hasPrefix("*.") { return d.hasSuffix(String(entry.dropFirst())) }
            return d == entry
        }
    }

    public func allows(_ address: MailAddress) -> Bool {
        allows(localPart: address.unquotedLocalPart, domain: address.normalizedDomain)
    }

    /// The (local part, domain) of each mailbox in an address-list header value.
    public static func headerAddresses(_ value: String) -> [(String, String)] {
        mailboxAddresses(inAddressList: value).map { a in
            let at = a.lastIndex(of: "@")!
            return (String(a[..<at]), String(a[a.index(after: at)...]))
        }
    }
}

extension String {
    func trimmingTrailingDot() -> String { hasSuffix(".") ? String(dropLast()) : self }
}
