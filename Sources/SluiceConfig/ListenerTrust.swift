// Whether a listener admits clients Sluice does not trust, which decides its
// default `verify:`: a listener that takes mail from the internet (an MX)
// checks SPF, DKIM and DMARC unless told `verify: []`; a relay for trusted
// networks or a submission listener for authenticated users does not, and
// needs no DNS.

import SluiceCore

extension ListenerSettings {
    /// The methods a listener verifies when its configuration does not say.
    public static let defaultVerification: Set<String> = ["spf", "dkim", "dmarc"]

    /// Whether a client that is neither in `networks.trusted` nor authenticated (by AUTH or a client certificate) can hand this listener mail:
    /// AUTH is not required, relay control accepts mail from anyone for a local domain, and the traffic
    /// policy (if any) allows some client outside the trusted networks.
    public func admitsUntrustedClients(policy: TrafficPolicy?, trustedNetworks: [CIDR], localDomains: [String]) -> Bool {
        guard auth != .required, auth != .mtls, !localDomains.isEmpty else { return false }
        guard let policy else { return true }
        if policy.defaultAction == .allow { return true }
        return policy.statements.contains { $0.action == .allow && $0.admitsUntrusted(trustedNetworks: trustedNetworks) }
    }
}

extension TrafficPolicy.Statement {
    /// Whether this allow statement can match a client that is neither trusted nor authenticated.
    func admitsUntrusted(trustedNetworks: [CIDR]) -> Bool {
        for condition in conditions {
            switch condition {
            case .authenticated(true), .user: return false
            case .clientIP(let ranges):
                if ranges.allSatisfy({ r in trustedNetworks.contains { $0.covers(r) } }) { return false }
            default: continue
            }
        }
        return true
    }
}

extension CIDR {
    /// Whether every address of `other` is in this range.
    func covers(_ other: CIDR) -> Bool {
        network.bytes.count == other.network.bytes.count && prefixLength <= other.prefixLength && contains(other.network)
    }
}
