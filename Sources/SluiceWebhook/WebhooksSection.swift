// The `webhooks:` section (SPEC §12, R-DELIVER-5): applications that take
// mail as an HTTP POST, each a name a rule's `webhook:` uses:
//
//   webhooks:
//     tickets: { url: "https://tickets.example.test/mail", secret_file: etc/webhook.key, timeout: 10s,
//                headers: { X-Tenant: acme } }
//
// `url` (http or https; https verifies the certificate against the system
// roots), `secret_file` (the HMAC key of the Sluice-Signature header),
// `timeout` (default 10s: no answer by then is a retry), `headers` (added to
// each request).

import Foundation
import SluiceConfig

public struct WebhookEndpoint: Sendable {
    public var name: String
    public var url: String
    public var secretFile: String
    public var timeout: Double = 10
    public var headers: [String: String] = [:]
    /// Host and port of the URL, for the log and a DSN's Remote-MTA.
    public var host: String
    public var port: Int
    public var secure: Bool
}

public struct WebhooksSection: ConfigSection {
    public static let key = "webhooks"
    public var endpoints: [String: WebhookEndpoint] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        for (name, entry) in try node.namedEntries() {
            let m = try entry.mapping(allowed: ["url", "secret_file", "timeout", "headers"])
            guard let u = m["url"], let s = m["secret_file"] else {
                throw entry.error("webhooks.\(name) needs url: and secret_file: (the key its Sluice-Signature is made with)")
            }
            let text = try u.nonEmptyString()
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host,
                !host.isEmpty
            else { throw u.error("expected an http:// or https:// URL, got '\(text)'") }
            var endpoint = WebhookEndpoint(
                name: name, url: text, secretFile: context.resolve(try s.nonEmptyString()), host: host, port: url.port ?? (scheme == "https" ? 443 : 80),
                secure: scheme == "https")
            if let t = m["timeout"] {
                endpoint.timeout = try t.duration()
                guard endpoint.timeout > 0 else { throw t.error("must be longer than 0s") }
            }
            if let h = m["headers"] {
                for (key, value) in try h.namedEntries() {
                    let v = try value.nonEmptyString()
                    guard key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), !v.contains("\r"), !v.contains("\n") else {
                        throw value.error("a header is a name of letters, digits and '-' with a one-line value")
                    }
                    guard !["content-type", "content-length", "sluice-signature", "host"].contains(key.lowercased()) else {
                        throw value.error("\(key) is set by Sluice")
                    }
                    endpoint.headers[key] = v
                }
            }
            endpoints[name] = endpoint
        }
    }
}

extension SluiceConfiguration {
    /// The webhooks of `webhooks:` (none when the component is not in the list).
    public var webhooks: [String: WebhookEndpoint] { section(WebhooksSection.self)?.endpoints ?? [:] }
}
