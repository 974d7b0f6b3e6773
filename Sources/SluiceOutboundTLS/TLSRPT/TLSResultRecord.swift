// TLSResultRecord: one TLS session result as the day's log keeps it (one
// JSON line each under data_dir/tlsrpt/results/DATE.jsonl, DATE the UTC
// day): the policy domain, the policy's type and text as TLS-RPT reports
// them, the MX host and address, and the failure type if any.

import Foundation
import SluiceCore

struct TLSResultRecord: Codable, Sendable, Equatable {
    var domain: String
    /// "sts", "tlsa" or "no-policy-found".
    var policyType: String
    var policyString: [String]
    var mxHost: String
    var receivingIP: String?
    /// RFC 8460 result type; nil: a successful session.
    var result: String?
    var detail: String?
    var at: Date

    init(_ r: TLSSessionResult) {
        domain = r.domain
        let host = r.mxHost.lowercased()
        if let requirement = r.policy.hosts[host] {
            policyType = "tlsa"
            policyString = ["\(requirement)"]
        } else {
            policyType = r.policy.reportType
            policyString = r.policy.reportType == "sts"
                ? ["version: STSv1", "mode: \(r.policy.testing ? "testing" : "enforce")"] + (r.policy.mxPatterns ?? []).map { "mx: \($0)" }
                : []
        }
        mxHost = host
        receivingIP = r.receivingIP
        result = r.failure?.rawValue
        // The reason names hosts and TLS errors, never message content; it is cut to keep lines small.
        detail = r.detail.map { String($0.prefix(300)) }
        at = r.at
    }

    /// "2026-12-07" (UTC), the day the result counts for.
    static func day(_ date: Date) -> String { String(ISO8601Time.utc(date).prefix(10)) }
}
