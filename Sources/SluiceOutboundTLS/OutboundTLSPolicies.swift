// OutboundTLSPolicies: each recipient domain's outbound TLS policy, in the
// order RFC 8461 §2 and the administrator's table give it: the domain's own
// `delivery.tls_policy` entry (verify, may or none: nothing else is asked);
// else DANE for each MX host with secure TLSA records (with dane-only, for
// those alone); else the domain's MTA-STS policy; else the `*` default.
// What each session under it came to goes to the day's TLS-RPT log.

import SluiceCore

struct OutboundTLSPolicies: OutboundTLSPolicySource {
    let mtaSTS: MTASTSPolicies
    /// nil without a DNSSEC trust anchor: no answer can be secure, so no TLSA is asked.
    let dane: DANEHosts?
    let table: @Sendable () -> [String: DomainTLSPolicy.Mode]
    /// Where each session's result is kept for the day's TLS-RPT reports (nil: not kept).
    var log: TLSResultLog?

    func record(_ result: TLSSessionResult) async { await log?.append(TLSResultRecord(result)) }

    func policy(for domain: String) async -> DomainTLSPolicy {
        let table = self.table()
        let domain = domain.lowercased()
        let own = StaticTLSPolicy.decide(domain, table)
        if let own, own.mode != .daneOnly { return own }
        // An address literal has no policy to publish.
        guard !domain.hasPrefix("[") else { return own ?? StaticTLSPolicy.fallback(table) }
        let hosts = await dane?.requirements(for: domain) ?? [:]
        var policy: DomainTLSPolicy
        if let own {
            policy = own
        } else {
            policy = await mtaSTS.published(domain)?.policy.decision ?? StaticTLSPolicy.fallback(table)
        }
        policy.hosts = hosts
        return policy
    }
}
