// TLSReportClassifier: what a `send` attempt's outcome says about TLS, in
// TLS reporting's terms (RFC 8460 §4.3): a session established under TLS,
// or a failure of the transport's security (no STARTTLS, whether the mail
// then went in clear or was held back; a certificate for another name, one
// not trusted, a DANE mismatch). A connection that never got that far says
// nothing about TLS: nil.

import Foundation
import SluiceCore
import SluiceSMTP

enum TLSReportClassifier {
    static func result(_ outcome: SMTPClientSession.Outcome, domain: String, policy: DomainTLSPolicy, host: SMTPClient.Endpoint, at: Date) -> TLSSessionResult? {
        let name = host.serverName ?? host.host
        func make(_ failure: TLSSessionResult.Failure?, _ detail: String?) -> TLSSessionResult {
            TLSSessionResult(domain: domain, policy: policy, mxHost: name, receivingIP: host.host, failure: failure, detail: detail, at: at)
        }
        if outcome.usedTLS { return make(nil, nil) }
        // Delivered in clear (opportunistic, or a policy in testing): the host did not offer STARTTLS.
        if outcome.failure == nil && outcome.dataSent { return make(.starttlsNotSupported, "delivered without TLS") }
        guard let failure = outcome.failure, let status = failure.reply.status, status.subject == 7 else { return nil }
        switch status.detail {
        case 10: return make(.starttlsNotSupported, failure.reason)
        case 5:
            let why = failure.reason
            if why.contains("DANE") { return make(.validationFailure, why) }
            if why.contains("Hostname") || why.contains("hostname") { return make(.certificateHostMismatch, why) }
            if why.contains("VERIFY_FAILED") || why.contains("verify") || why.contains("issuer") || why.contains("self-signed") || why.contains("self signed") {
                return make(.certificateNotTrusted, why)
            }
            return make(.validationFailure, why)
        default: return nil
        }
    }
}
