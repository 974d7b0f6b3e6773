// ClientCertificate: the certificate a client presented in the TLS handshake
// and the listener verified against its `client_ca` (R-SMTP-2 `auth: mtls`).
// A fact of the session, like the TLS version: the rules and policies test
// it (`tls_client_cert:`), `certificates:` makes it a principal that may
// relay and be signed for (R-CORE-2), and the log names it.

import Foundation

public struct ClientCertificate: Sendable, Hashable, Codable {
    /// The subject in RFC 4514 form ("CN=app1,O=Example").
    public var subject: String
    /// The issuer, in the same form.
    public var issuer: String
    /// DNS names, e-mail addresses, URIs and IP addresses of the subjectAltName extension.
    public var subjectAlternativeNames: [String]
    /// "sha256:" and the lowercase hex SHA-256 of the DER certificate, as `openssl x509 -fingerprint -sha256` shows it without colons.
    public var fingerprint: String
    /// The serial number in lowercase hex, for revocation lists.
    public var serialNumber: String

    public init(subject: String, issuer: String, subjectAlternativeNames: [String], fingerprint: String, serialNumber: String) {
        self.subject = subject
        self.issuer = issuer
        self.subjectAlternativeNames = subjectAlternativeNames
        self.fingerprint = fingerprint
        self.serialNumber = serialNumber
    }

    /// Whether the subject holds every attribute of `pattern` ("CN=app1" or "CN=app1,O=Example"), case-insensitively.
    public func subjectHas(_ pattern: String) -> Bool {
        let have = Set(Self.attributes(subject))
        let want = Self.attributes(pattern)
        return !want.isEmpty && want.allSatisfy(have.contains)
    }

    /// Whether `text` ("sha256:AB:CD..." or bare hex, any case, colons or not) names this certificate's fingerprint.
    public func hasFingerprint(_ text: String) -> Bool {
        Self.normalizedFingerprint(text) == fingerprint
    }

    /// "sha256:" and lowercase hex without separators; nil when `text` is not a SHA-256 fingerprint.
    public static func normalizedFingerprint(_ text: String) -> String? {
        var t = text.lowercased()
        if t.hasPrefix("sha256:") { t.removeFirst(7) }
        t.removeAll { $0 == ":" }
        guard t.count == 64, t.allSatisfy(\.isHexDigit) else { return nil }
        return "sha256:" + t
    }

    /// The attributes of a distinguished name as "key=value", lowercased, split at unescaped commas and plus signs.
    public static func attributes(_ name: String) -> [String] {
        var out: [String] = []
        var current = ""
        var escaped = false
        for ch in name {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                current.append(ch)
                escaped = true
            } else if ch == "," || ch == "+" {
                out.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        out.append(current)
        return out.compactMap { part in
            let p = part.trimmingCharacters(in: .whitespaces)
            guard let eq = p.firstIndex(of: "=") else { return nil }
            let key = p[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = p[p.index(after: eq)...].trimmingCharacters(in: .whitespaces).lowercased()
            return key.isEmpty ? nil : "\(key)=\(value)"
        }
    }
}
