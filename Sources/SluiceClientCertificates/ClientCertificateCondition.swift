// `tls_client_cert: true` (the client presented a certificate its listener's
// client_ca verified), `false`, or `tls_client_cert: { subject: ..., san:
// ..., fingerprint: [...] }` where every key given must hold. `subject:
// "CN=app1"` means the subject has these attributes; `subject: { OPERATOR:
// ... }` compares the whole RFC 4514 subject with the rules' string
// operators; `san:` holds when one subjectAltName passes; `fingerprint:` is
// a list of SHA-256 fingerprints. Rules and traffic policies both take it.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct ClientCertificateCondition: RuleCondition, PolicyCondition, Sendable {
    public enum Subject: Sendable {
        case attributes(String)
        case text(StringOperator)
    }

    public var present: Bool = true
    public var subject: Subject?
    public var san: StringOperator?
    public var fingerprints: [String]?

    public func holds(for certificate: ClientCertificate?) -> Bool {
        guard let certificate else { return !present }
        guard present else { return false }
        switch subject {
        case .attributes(let a)?: if !certificate.subjectHas(a) { return false }
        case .text(let op)?: if !op.test(certificate.subject, isAddress: false) { return false }
        case nil: break
        }
        if let san, !certificate.subjectAlternativeNames.contains(where: { san.test($0, isAddress: $0.contains("@")) }) { return false }
        if let fingerprints, !fingerprints.contains(certificate.fingerprint) { return false }
        return true
    }

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        holds(for: context.client.clientCertificate)
    }

    public func holds(_ facts: PolicyFacts) -> Bool { holds(for: facts.client.clientCertificate) }
    /// A session fact, not a verdict: nothing to run for it (said once for both protocols).
    public var reads: Set<String> { [] }

    public var explanation: String {
        guard present else { return "the client presented no verified certificate" }
        var parts: [String] = []
        switch subject {
        case .attributes(let a)?: parts.append("subject has \(a)")
        case .text(let op)?: parts.append("subject \(op.explanation)")
        case nil: break
        }
        if let san { parts.append("a subjectAltName \(san.explanation)") }
        if let fingerprints { parts.append("fingerprint is \(fingerprints.map { String($0.prefix(19)) + "…" }.joined(separator: " or "))") }
        return parts.isEmpty ? "the client presented a verified certificate" : "client certificate: " + parts.joined(separator: ", ")
    }
}

public struct ClientCertificateConditionKind: RuleConditionKind, PolicyConditionKind {
    public let key = "tls_client_cert"

    public init() {}

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        try Self.parse(value) { node in try loader.stringOperator(node, addresses: false) }
    }

    public func parse(_ value: ConfigNode, _ context: inout PolicyParseContext) throws -> any PolicyCondition {
        try Self.parse(value) { node in try context.stringOperator(node, addresses: false) }
    }

    static func parse(_ value: ConfigNode, stringOperator: (ConfigNode) throws -> StringOperator) throws -> ClientCertificateCondition {
        if let wanted = value.boolValue { return ClientCertificateCondition(present: wanted) }
        let m = try value.mapping(allowed: ["subject", "san", "fingerprint"])
        guard !m.isEmpty else { throw value.error("tls_client_cert takes true, false or { subject:, san:, fingerprint: }") }
        var c = ClientCertificateCondition()
        if let s = m["subject"] {
            if s.isScalar {
                let text = try s.nonEmptyString()
                guard !ClientCertificate.attributes(text).isEmpty else {
                    throw s.error("expected subject attributes such as \"CN=app1\", or { OPERATOR: ... }")
                }
                c.subject = .attributes(text)
            } else {
                c.subject = .text(try stringOperator(s))
            }
        }
        if let s = m["san"] { c.san = try stringOperator(s) }
        if let f = m["fingerprint"] {
            c.fingerprints = try f.stringList().map { text in
                guard let normal = ClientCertificate.normalizedFingerprint(text) else {
                    throw f.error("expected SHA-256 fingerprints such as \"sha256:3f2a...\" (64 hex digits), got '\(text)'")
                }
                return normal
            }
        }
        return c
    }
}
