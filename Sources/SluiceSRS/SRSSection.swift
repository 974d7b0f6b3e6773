// The `srs:` section (SPEC §12, R-DELIVER-5):
//
//   srs: { domain: fwd.example.test, secret_file: etc/srs.key, max_age: 21d }
//
// `domain`: the domain forwarded mail's envelope senders are rewritten into
// (its MX must be this gateway, so that bounces come back); `secret_file`:
// the HMAC key (read when a runtime is built: unreadable or empty is an
// error, readable by others a warning); `max_age` (default 21d): how long a
// rewritten address accepts bounces.

import Foundation
import SluiceConfig

public struct SRSSection: ConfigSection, ServedDomains {
    public static let key = "srs"

    public struct Settings: Sendable {
        public var domain: String
        public var secretFile: String
        public var maxAge: Double = 21 * 86400
    }

    public var settings: Settings?

    /// Bounces to rewritten senders come back to the SRS domain.
    public var servedDomains: [String] { settings.map { [$0.domain] } ?? [] }

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["domain", "secret_file", "max_age"])
        guard let d = m["domain"], let s = m["secret_file"] else {
            throw node.error("srs needs domain: (the domain senders are rewritten into) and secret_file: (the HMAC key)")
        }
        let domain = try d.nonEmptyString().lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        guard domain.contains("."), domain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw d.error("'\(domain)' is not a domain name")
        }
        var settings = Settings(domain: domain, secretFile: context.resolve(try s.nonEmptyString()))
        if let a = m["max_age"] {
            settings.maxAge = try a.duration()
            guard settings.maxAge >= 86400, settings.maxAge < 1000 * 86400 else { throw a.error("max_age is at least 1d and below 1000d") }
        }
        self.settings = settings
    }
}

extension SluiceConfiguration {
    /// `srs:`, when configured.
    public var srs: SRSSection.Settings? { section(SRSSection.self)?.settings }
}
