// The outbound transport-security keys of `delivery:` (R-DELIVER-6):
// `tls_policy` per recipient domain with its `*` default (`send_tls` its
// alias), `ca_file` (extra trust roots for every outbound peer) and
// `mta_sts: { https_port, ca_file }`.

import Foundation
import SluiceCore

extension DeliverySettings {
    mutating func readTransportSecurity(_ d: [String: ConfigNode], send: ConfigNode?, resolve: (String) -> String) throws {
        if let t = d["tls_policy"] {
            for (domain, node) in try t.namedEntries() {
                let key = domain.lowercased()
                if key == "*", let send {
                    throw node.error("the default is given twice: here and as delivery.send_tls (\(send.location)); keep one")
                }
                guard key == "*" || Self.isDomainName(key) else {
                    throw node.error("'\(domain)' is not a domain name (or '*', the default)")
                }
                let text = try node.string()
                guard let mode = DomainTLSPolicy.Mode(rawValue: text) else {
                    throw node.error("must be one of dane-only, verify, may, none, got '\(text)'")
                }
                if mode == .daneOnly && daneNeedsAnchor == nil {
                    daneNeedsAnchor = node.error("dane-only needs DNSSEC: set dns.trust_anchor (e.g. /usr/share/dns/root.key)")
                }
                tlsPolicy[key] = mode
            }
        }
        if let c = d["ca_file"] { caFile = try Self.readablePEM(c, resolve: resolve) }
        if let m = try d["mta_sts"]?.mapping(allowed: ["https_port", "ca_file"]) {
            if let p = m["https_port"] { mtaSTS.httpsPort = try p.int(in: 1...65535) }
            if let c = m["ca_file"] { mtaSTS.caFile = try Self.readablePEM(c, resolve: resolve) }
        }
    }

    /// A CA file's path, once it is known to be readable (the TLS contexts are made from it at start).
    private static func readablePEM(_ node: ConfigNode, resolve: (String) -> String) throws -> String {
        let path = resolve(try node.nonEmptyString())
        guard FileManager.default.isReadableFile(atPath: path) else { throw node.error("cannot read \(path)") }
        return path
    }

    private static func isDomainName(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 1 && labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && l.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && l.first != "-" && l.last != "-"
        }
    }
}
