// TLSRPTRecord: where a policy domain wants its TLS reports (RFC 8460 §3):
// the `_smtp._tls.DOMAIN` TXT record "v=TLSRPTv1; rua=mailto:...,https://...".
// Exactly one such record counts; this host mails reports (mailto) and
// does not post them (https), which the caller logs.

import Foundation
import SluiceCore

enum TLSRPTRecord {
    /// The rua URIs of the one v=TLSRPTv1 record among `texts`; nil when there is none, or more than one.
    static func rua(_ texts: [String]) -> [String]? {
        let ours = texts.filter { $0.hasPrefix("v=TLSRPTv1") }
        guard ours.count == 1 else { return nil }
        let fields = ours[0].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.first == "v=TLSRPTv1", let rua = fields.first(where: { $0.hasPrefix("rua=") }) else { return nil }
        let uris = rua.dropFirst(4).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return uris.isEmpty ? nil : uris
    }

    /// The addresses of the mailto URIs (percent-decoded, query dropped) that parse as addresses.
    static func mailboxes(_ uris: [String]) -> [MailAddress] {
        uris.compactMap { uri -> MailAddress? in
            guard uri.lowercased().hasPrefix("mailto:") else { return nil }
            let rest = uri.dropFirst(7).split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            let decoded = rest.removingPercentEncoding ?? rest
            guard let at = decoded.lastIndex(of: "@"), at != decoded.startIndex else { return nil }
            let domain = String(decoded[decoded.index(after: at)...])
            guard !domain.isEmpty, !domain.contains(" ") else { return nil }
            return MailAddress(localPart: String(decoded[..<at]), domain: domain)
        }
    }
}
