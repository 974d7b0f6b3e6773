// TLSSessionResult: what one `send` attempt to one MX host came to under
// its domain's TLS policy, in the terms of TLS reporting (RFC 8460 §4.3):
// established as the policy asks, or the failure type. `send` hands each
// to the policy source, which keeps the day's for the reports.

import Foundation

/// What one attempt to one MX host came to, in TLS-RPT's terms (RFC 8460 §4.3).
public struct TLSSessionResult: Sendable, Equatable {
    /// RFC 8460 §4.3 result types Sluice can tell apart.
    public enum Failure: String, Sendable, Codable {
        case starttlsNotSupported = "starttls-not-supported"
        case certificateHostMismatch = "certificate-host-mismatch"
        case certificateNotTrusted = "certificate-not-trusted"
        case validationFailure = "validation-failure"
        case tlsaInvalid = "tlsa-invalid"
        case dnssecInvalid = "dnssec-invalid"
        case daneRequired = "dane-required"
        case stsPolicyInvalid = "sts-policy-invalid"
    }

    public var domain: String
    public var policy: DomainTLSPolicy
    public var mxHost: String
    /// The MX host's address, when a connection was made.
    public var receivingIP: String?
    /// nil: the session was established as the policy asks.
    public var failure: Failure?
    /// What went wrong, in words, for the report's additional information.
    public var detail: String?
    public var at: Date

    public init(domain: String, policy: DomainTLSPolicy, mxHost: String, receivingIP: String?, failure: Failure?, detail: String?, at: Date) {
        self.domain = domain
        self.policy = policy
        self.mxHost = mxHost
        self.receivingIP = receivingIP
        self.failure = failure
        self.detail = detail
        self.at = at
    }
}
