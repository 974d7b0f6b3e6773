// SRSAddress: the Sender Rewriting Scheme (Shevek's SRS, as libsrs2 and
// postsrsd write it), pure. Forwarding mail for a foreign sender, the
// envelope sender becomes an address of ours that the next hop's SPF check
// accepts and that a bounce can be routed back through:
//
//   orig@sender.example -> SRS0=HHHH=TT=sender.example=orig@fwd.example
//   SRS0=HHHH=TT=d=l@first.example -> SRS1=HHHH=first.example==HHHH=TT=d=l@fwd.example
//
// TT is the day (two base32 characters, days since 1970 modulo 1024) and HHHH
// the first four base64 characters of an HMAC-SHA256 with the secret, so a
// bounce address can be neither forged nor kept for ever (max_age). Hashes
// compare without regard to case: some MTAs lowercase the addresses they
// return mail to.

import Crypto
import Foundation
import SluiceCore

public struct SRSAddress: Sendable {
    public let domain: String
    /// The HMAC key's bytes (SymmetricKey is not Sendable; one is made per hash).
    let secret: [UInt8]
    /// Days a rewritten address stays valid.
    public let maxAgeDays: Int

    public init(domain: String, secret: [UInt8], maxAgeDays: Int) {
        self.domain = domain.lowercased()
        self.secret = secret
        self.maxAgeDays = maxAgeDays
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notSRS
        case syntax
        case badHash
        case expired

        public var description: String {
            switch self {
            case .notSRS: return "not an SRS address"
            case .syntax: return "a malformed SRS address"
            case .badHash: return "an SRS address whose hash does not match (forged or altered)"
            case .expired: return "an SRS address past its max_age"
            }
        }
    }

    static let base32 = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    static func day(_ date: Date) -> Int { Int(floor(date.timeIntervalSince1970 / 86400)) % 1024 }

    static func stamp(_ date: Date) -> String {
        let d = day(date)
        return String([base32[(d >> 5) & 31], base32[d & 31]])
    }

    func hash(_ parts: [String]) -> String {
        let text = parts.joined(separator: "=").lowercased()
        let mac = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: secret))
        return String(Data(mac).base64EncodedString().prefix(4))
    }

    /// The address to use as envelope sender when forwarding mail from `sender`.
    public func forward(_ sender: MailAddress, at now: Date) -> MailAddress {
        let local = sender.unquotedLocalPart
        let senderDomain = sender.normalizedDomain
        if senderDomain == domain { return sender }
        let upper = local.uppercased()
        if upper.hasPrefix("SRS0="), local.count > 5 {
            // Someone else's SRS0: SRS1 naming their domain, so the bounce goes back through them.
            let rest = String(local.dropFirst(5))
            return MailAddress(localPart: "SRS1=\(hash([senderDomain, rest]))=\(senderDomain)==\(rest)", domain: domain)
        }
        if upper.hasPrefix("SRS1="), let parts = Self.srs1(local) {
            // Already SRS1: keep the first forwarder, hash again with ours.
            return MailAddress(localPart: "SRS1=\(hash([parts.first, parts.rest]))=\(parts.first)==\(parts.rest)", domain: domain)
        }
        let t = Self.stamp(now)
        return MailAddress(localPart: "SRS0=\(hash([t, senderDomain, local]))=\(t)=\(senderDomain)=\(local)", domain: domain)
    }

    /// The address a bounce to `address` (one of ours) goes back to.
    public func reverse(_ address: MailAddress, at now: Date) -> Result<MailAddress, Failure> {
        guard address.normalizedDomain == domain else { return .failure(.notSRS) }
        let local = address.unquotedLocalPart
        let upper = local.uppercased()
        if upper.hasPrefix("SRS0=") {
            let fields = local.dropFirst(5).split(separator: "=", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, fields[0].count == 4, fields[1].count == 2, !fields[2].isEmpty, !fields[3].isEmpty else { return .failure(.syntax) }
            let (h, t, d, l) = (fields[0], fields[1], fields[2], fields[3])
            guard h.lowercased() == hash([t, d, l]).lowercased() else { return .failure(.badHash) }
            guard let stamped = Self.dayValue(t) else { return .failure(.syntax) }
            let age = (Self.day(now) - stamped + 1024) % 1024
            guard age <= maxAgeDays else { return .failure(.expired) }
            return .success(MailAddress(localPart: l, domain: d))
        }
        if upper.hasPrefix("SRS1=") {
            guard let parts = Self.srs1(local) else { return .failure(.syntax) }
            guard parts.hash.lowercased() == hash([parts.first, parts.rest]).lowercased() else { return .failure(.badHash) }
            return .success(MailAddress(localPart: "SRS0=" + parts.rest, domain: parts.first))
        }
        return .failure(.notSRS)
    }

    /// "SRS1=HHHH=first.example==rest": the hash, the first forwarder's domain, and its SRS0 rest.
    static func srs1(_ local: String) -> (hash: String, first: String, rest: String)? {
        let body = local.dropFirst(5)
        guard let sep = body.range(of: "==") else { return nil }
        let head = body[..<sep.lowerBound].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let rest = String(body[sep.upperBound...])
        guard head.count == 2, head[0].count == 4, !head[1].isEmpty, !rest.isEmpty else { return nil }
        return (head[0], head[1].lowercased(), rest)
    }

    static func dayValue(_ t: String) -> Int? {
        let chars = Array(t.uppercased())
        guard chars.count == 2, let hi = base32.firstIndex(of: chars[0]), let lo = base32.firstIndex(of: chars[1]) else { return nil }
        return hi << 5 | lo
    }
}
