// The `dnsbl:` section (RFC 5782 DNS block and allow lists):
//
//   dnsbl:
//     zen:   { zone: zen.spamhaus.org, type: block, codes: [127.0.0.2-127.0.0.11] }
//     dnswl: { zone: list.dnswl.org, type: allow }
//     dbl:   { zone: dbl.spamhaus.org, query: [sender, helo] }
//
// A list of addresses (`query: [client_ip]`, the default) is asked about the
// client's address when a connection opens; a list of domain names (RFC 5782
// §2.3: `query: [sender, helo]`, either or both) about the MAIL FROM domain
// and the HELO name at MAIL FROM. `codes` keeps only those answers (default:
// any 127.0.0.0/8 answer but the 127.255.255.x error codes). Rules and
// policies test `dnsbl: NAME` (a block list) and `dnswl: NAME` (an allow list).

import Foundation
import SluiceConfig
import SluiceCore

public struct DNSList: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case block, allow
    }

    /// What a list is asked about: the client's address, or domain names (never both: RFC 5782 §2.3).
    public enum Query: String, Sendable, CaseIterable {
        case clientIP = "client_ip"
        case sender
        case helo
    }

    public var name: String
    public var zone: String
    public var kind: Kind
    public var query: Set<Query> = [.clientIP]

    /// Whether it is asked about the client's address (when the connection opens), not about domain names.
    public var listsAddresses: Bool { query.contains(.clientIP) }
    /// Answers that count as listed (nil: any in 127.0.0.0/8 other than the error codes).
    public var codes: [ClosedRange<UInt32>]?

    /// Whether an A answer means "listed" here. 127.255.255.0/24 are the list's error codes (RFC 5782 §2.1,
    /// Spamhaus: a query through a public resolver, an unregistered user): never a listing.
    public func counts(_ address: IPAddress) -> Bool {
        guard address.isIPv4 else { return false }
        let value = address.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard value >> 24 == 127, value >> 8 != 0x7FFF_FF else { return false }
        return codes.map { ranges in ranges.contains { $0.contains(value) } } ?? true
    }
}

public struct DNSListSection: ConfigSection {
    public static let key = "dnsbl"
    public var lists: [String: DNSList] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        for (name, entry) in try node.namedEntries() {
            let m = try entry.mapping(allowed: ["zone", "type", "codes", "query"])
            guard let zoneNode = m["zone"] else { throw entry.error("dnsbl.\(name) needs zone: (the list's DNS zone, as zen.spamhaus.org)") }
            let zone = try zoneNode.nonEmptyString().lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard zone.contains("."), zone.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
                throw zoneNode.error("'\(zone)' is not a DNS zone")
            }
            var kind = DNSList.Kind.block
            if let t = m["type"] {
                guard let k = DNSList.Kind(rawValue: try t.nonEmptyString()) else { throw t.error("type is block or allow") }
                kind = k
            }
            var codes: [ClosedRange<UInt32>]?
            if let c = m["codes"] {
                codes = try (c.isScalar ? [c] : c.list()).map(Self.codeRange)
            }
            var list = DNSList(name: name, zone: zone, kind: kind, codes: codes)
            if let q = m["query"] {
                list.query = Set(try (q.isScalar ? [q] : q.list()).map { try $0.choice(DNSList.Query.self) })
                if list.query.contains(.clientIP) && list.query.count > 1 {
                    throw q.error("a list answers about addresses (client_ip) or about domain names (sender, helo), not both")
                }
            }
            lists[name] = list
        }
    }

    /// "127.0.0.2" or "127.0.0.2-127.0.0.11".
    static func codeRange(_ node: ConfigNode) throws -> ClosedRange<UInt32> {
        let text = try node.nonEmptyString()
        let ends = text.split(separator: "-", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = try ends.map { part -> UInt32 in
            guard let ip = IPAddress(part), ip.isIPv4, ip.bytes[0] == 127 else {
                throw node.error("a list's code is an address in 127.0.0.0/8, or a range of them ('\(text)')")
            }
            return ip.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        guard values[0] <= values[values.count - 1] else { throw node.error("the range '\(text)' ends before it starts") }
        return values[0]...values[values.count - 1]
    }
}

extension SluiceConfiguration {
    /// The configured DNS lists (none when the component is not in the list).
    public var dnsLists: [String: DNSList] { section(DNSListSection.self)?.lists ?? [:] }
}
