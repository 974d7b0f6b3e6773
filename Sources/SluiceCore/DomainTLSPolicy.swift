// DomainTLSPolicy: how direct delivery (`send`) to one recipient domain must
// use TLS (R-DELIVER-6), decided before its MX hosts are tried: the
// administrator's `delivery.tls_policy` entry for the domain, else what the
// domain publishes (MTA-STS), else the `*` default. A policy component
// decides it (OutboundTLSPolicySource); `send` acts on it.

public struct DomainTLSPolicy: Sendable, Equatable {
    /// The levels of `delivery.tls_policy` (Postfix's smtp_tls_security_level names them alike).
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Only to MX hosts with usable DANE TLSA records (RFC 7672), their certificates matched against them.
        case daneOnly = "dane-only"
        /// TLS with a certificate verified against the trust roots and valid for the MX host's name.
        case verify
        /// STARTTLS when offered, unverified; else plaintext.
        case may
        /// Never TLS.
        case none

        /// What the SMTP client session does for it.
        public var outbound: OutboundTLS {
            switch self {
            case .daneOnly, .verify: .required
            case .may: .opportunistic
            case .none: .none
            }
        }

        /// `delivery.send_tls`, the alias of the `*` entry: required = verify, opportunistic = may, none = none.
        public init(_ tls: OutboundTLS) {
            switch tls {
            case .required: self = .verify
            case .opportunistic: self = .may
            case .none: self = .none
            }
        }
    }

    public var mode: Mode
    /// The MX host names the domain allows (MTA-STS `mx:`; "*.example.net" stands for one leftmost label);
    /// nil: any MX host.
    public var mxPatterns: [String]?
    /// What decided it, as logs and delivery results name it: "tls_policy", "mta-sts enforce", "mta-sts testing",
    /// "default".
    public var source: String
    /// A policy in testing (MTA-STS `mode: testing`): delivered as `may` would, what `verify` would have refused is
    /// reported, never enforced.
    public var testing: Bool
    /// What DANE requires of each MX host that has TLSA records (by lowercased host name); it comes before the
    /// rest of the policy for that host (RFC 8461 §2). A host not listed follows `mode`.
    public var hosts: [String: HostTLSRequirement]

    public init(mode: Mode, mxPatterns: [String]? = nil, source: String, testing: Bool = false, hosts: [String: HostTLSRequirement] = [:]) {
        self.mode = mode
        self.mxPatterns = mxPatterns
        self.source = source
        self.testing = testing
        self.hosts = hosts
    }

    /// RFC 8460's policy type for a host without DANE: "sts" (MTA-STS) or "no-policy-found" (a DANE host's is "tlsa").
    public var reportType: String { source.hasPrefix("mta-sts") ? "sts" : "no-policy-found" }

    /// How logs and delivery results name it: "mta-sts enforce", "tls_policy verify", "default may".
    public var name: String { source == "default" || source == "tls_policy" ? "\(source) \(mode.rawValue)" : source }

    /// Whether an MX host's name is one the policy allows (RFC 8461 §4.1: a wildcard matches one label only).
    public func allows(mxHost name: String) -> Bool {
        guard let patterns = mxPatterns else { return true }
        let host = name.lowercased().trimmingSuffix(".")
        return patterns.contains { p in
            let pattern = p.lowercased().trimmingSuffix(".")
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)  // ".example.net"
                guard host.hasSuffix(suffix) else { return false }
                let label = host.dropLast(suffix.count)
                return !label.isEmpty && !label.contains(".")
            }
            return host == pattern
        }
    }
}

/// What DANE requires of one MX host.
public enum HostTLSRequirement: Sendable, Equatable, CustomStringConvertible {
    /// TLS, the certificate chain checked by `verifier` (its TLSA records) instead of the trust roots.
    case verified(by: any PeerCertificateVerifier)
    /// TLS, unauthenticated: the host has TLSA records but none usable (RFC 7672 §2.2).
    case encrypted
    /// Not to be tried now (its TLSA answer was bogus or could not be had): deferred with the reason.
    case unusable(String)

    public static func == (a: HostTLSRequirement, b: HostTLSRequirement) -> Bool { a.description == b.description }

    public var description: String {
        switch self {
        case .verified(let v): "verified by \(v)"
        case .encrypted: "encrypted"
        case .unusable(let why): "unusable: \(why)"
        }
    }
}

/// Checks a TLS peer's certificate chain (DER, the server's own certificate first) in place of the trust roots and
/// host name: DANE's TLSA records. Success names what vouched ("DANE-EE"); failure says why.
public protocol PeerCertificateVerifier: Sendable, CustomStringConvertible {
    func verify(chain: [[UInt8]]) async -> Result<String, PeerVerificationFailure>
}

public struct PeerVerificationFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How `send` goes to one MX host under a domain's policy.
public enum HostTLSPlan: Sendable {
    /// Try it: with this STARTTLS policy, the chain checked by `verifier` when set, else by the trust roots when
    /// `tls` is required and `verify` is true; `policy` names what decided it.
    case attempt(tls: OutboundTLS, verifier: (any PeerCertificateVerifier)?, verify: Bool, policy: String)
    /// Skip it: the reason (a 4.7.5 deferral for the host) and what TLS reporting calls it.
    case skip(String, TLSSessionResult.Failure)
}

extension DomainTLSPolicy {
    /// The plan for one MX host (pure): DANE first, then dane-only, the MTA-STS MX list, then the mode.
    public func plan(forHost name: String) -> HostTLSPlan {
        switch hosts[name.lowercased().trimmingSuffix(".")] {
        case .verified(let verifier)?:
            return .attempt(tls: .required, verifier: verifier, verify: true, policy: "dane")
        case .encrypted?:
            return .attempt(tls: .required, verifier: nil, verify: false, policy: "dane (no usable TLSA record: encrypted, unauthenticated)")
        case .unusable(let why)?:
            return .skip("\(name): \(why)", why.contains("DNSSEC") ? .dnssecInvalid : .tlsaInvalid)
        case nil:
            break
        }
        if mode == .daneOnly { return .skip("\(name) has no DANE TLSA records (\(self.name))", .daneRequired) }
        if !testing && !allows(mxHost: name) {
            return .skip("\(name) is not an MX host the policy allows (\(self.name), mx: \(mxPatterns?.joined(separator: ", ") ?? ""))", .validationFailure)
        }
        let tls = testing ? .opportunistic : mode.outbound
        return .attempt(tls: tls, verifier: nil, verify: tls == .required, policy: self.name)
    }
}

/// Decides each domain's policy; asked once per domain and delivery attempt, so it caches what it fetched. Told
/// what each session under a policy came to (for TLS reporting, RFC 8460).
public protocol OutboundTLSPolicySource: Sendable {
    func policy(for domain: String) async -> DomainTLSPolicy
    func record(_ result: TLSSessionResult) async
}

extension OutboundTLSPolicySource {
    public func record(_ result: TLSSessionResult) async {}
}

/// The administrator's table alone: the domain's own entry, else `*` (what `send` does when no component publishes
/// policies).
public struct StaticTLSPolicy: OutboundTLSPolicySource {
    let table: @Sendable () -> [String: DomainTLSPolicy.Mode]

    /// `table` is read at each decision (a reload changes it).
    public init(table: @escaping @Sendable () -> [String: DomainTLSPolicy.Mode]) { self.table = table }

    public func policy(for domain: String) async -> DomainTLSPolicy { Self.decide(domain, table()) ?? Self.fallback(table()) }

    /// The domain's own entry, if the table has one.
    public static func decide(_ domain: String, _ table: [String: DomainTLSPolicy.Mode]) -> DomainTLSPolicy? {
        table[domain.lowercased()].map { DomainTLSPolicy(mode: $0, source: "tls_policy") }
    }

    /// The `*` entry (opportunistic when the table has none).
    public static func fallback(_ table: [String: DomainTLSPolicy.Mode]) -> DomainTLSPolicy {
        DomainTLSPolicy(mode: table["*"] ?? .may, source: "default")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ s: String) -> String { hasSuffix(s) ? String(dropLast(s.count)) : self }
}
