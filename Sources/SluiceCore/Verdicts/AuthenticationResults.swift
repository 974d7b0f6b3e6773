// What the verify stage found: SPF, each DKIM signature and DMARC, as typed
// values (RFC 8601 result names). Rules test them, the Authentication-Results
// header is written from them, and the archive stores them with the message.

/// The result of one authentication method (RFC 8601 §2.7).
public enum AuthResult: String, Sendable, Codable, Hashable, CaseIterable {
    case pass, fail, softfail, neutral, none, temperror, permerror
}

/// A DMARC policy (p= / sp=) and the disposition it gives a message.
public enum DMARCPolicy: String, Sendable, Codable, Hashable, CaseIterable {
    case none, quarantine, reject
}

public struct SPFVerdict: Sendable, Codable, Hashable {
    public var result: AuthResult
    /// The identity checked: the MAIL FROM domain, or the HELO name for the null sender.
    public var identity: String
    /// "mailfrom" or "helo" (RFC 8601 smtp.mailfrom / smtp.helo).
    public var scope: String
    public var explanation: String?

    public init(result: AuthResult, identity: String, scope: String, explanation: String? = nil) {
        self.result = result
        self.identity = identity
        self.scope = scope
        self.explanation = explanation
    }
}

/// One DKIM-Signature's verdict.
public struct DKIMVerdict: Sendable, Codable, Hashable {
    public var result: AuthResult
    public var domain: String
    public var selector: String
    public var algorithm: String
    /// The first characters of b=, to tell signatures apart (RFC 6008).
    public var signaturePrefix: String
    public var reason: String?

    public init(result: AuthResult, domain: String, selector: String, algorithm: String, signaturePrefix: String, reason: String? = nil) {
        self.result = result
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.signaturePrefix = signaturePrefix
        self.reason = reason
    }
}

public struct DMARCVerdict: Sendable, Codable, Hashable {
    public var result: AuthResult
    public var fromDomain: String
    /// The policy the domain publishes (p=, or sp= for a subdomain); nil without a record.
    public var published: DMARCPolicy?
    /// What the policy asks for this message (after pct=); nil without a record.
    public var disposition: DMARCPolicy?
    public var reason: String?

    public init(result: AuthResult, fromDomain: String, published: DMARCPolicy? = nil, disposition: DMARCPolicy? = nil, reason: String? = nil) {
        self.result = result
        self.fromDomain = fromDomain
        self.published = published
        self.disposition = disposition
        self.reason = reason
    }
}

/// The verify stage's results; a method that was not checked is nil.
public struct AuthenticationResults: TraceHeaderVerdict, Hashable {
    public static let name = "authentication"
    public var spf: SPFVerdict?
    /// Every signature's verdict; empty when the message carries none; nil when DKIM was not checked.
    public var dkim: [DKIMVerdict]?
    /// Set when the DKIM verifier could not run at all (dkim=temperror).
    public var dkimError: String?
    public var dmarc: DMARCVerdict?

    public init(spf: SPFVerdict? = nil, dkim: [DKIMVerdict]? = nil, dmarc: DMARCVerdict? = nil) {
        self.spf = spf
        self.dkim = dkim
        self.dmarc = dmarc
    }

    /// One DKIM result for `dkim:` conditions: pass if any signature passed, else the most telling failure.
    public var dkimSummary: AuthResult? {
        if dkimError != nil { return .temperror }
        guard let dkim else { return nil }
        if dkim.isEmpty { return AuthResult.none }
        for r in [AuthResult.pass, .fail, .temperror, .permerror] where dkim.contains(where: { $0.result == r }) { return r }
        return .neutral
    }

    /// The value an authentication condition tests ("spf" -> "pass"); nil when that method was not checked.
    public func value(of method: AuthenticationMethod) -> String? {
        switch method {
        case .spf: return spf?.result.rawValue
        case .dkim: return dkimSummary?.rawValue
        case .dmarc: return dmarc?.result.rawValue
        case .dmarcPolicy: return dmarc?.disposition?.rawValue
        }
    }

    /// Short form for logs and the archive: "spf=pass dkim=none dmarc=fail".
    public var summary: String {
        AuthenticationMethod.allCases.filter { $0 != .dmarcPolicy }.compactMap { m in value(of: m).map { "\(m.rawValue)=\($0)" } }
            .joined(separator: " ")
    }

    public func traceHeader(authservID: String) -> String? { header(authservID: authservID) }

    /// The Authentication-Results header (RFC 8601) for these results, nil when nothing was checked.
    public func header(authservID: String) -> String? {
        var parts: [String] = []
        if let r = spf { parts.append("spf=\(r.result.rawValue) smtp.\(r.scope)=\(r.identity)") }
        if let e = dkimError {
            parts.append("dkim=temperror (\(e))")
        } else if let dkim {
            if dkim.isEmpty { parts.append("dkim=none") }
            for r in dkim {
                var part = "dkim=\(r.result.rawValue) header.d=\(r.domain) header.s=\(r.selector)"
                if !r.algorithm.isEmpty { part += " header.a=\(r.algorithm)" }
                if !r.signaturePrefix.isEmpty { part += " header.b=\(r.signaturePrefix)" }
                parts.append(part)
            }
        }
        if let r = dmarc {
            var part = "dmarc=\(r.result.rawValue)"
            if let p = r.published { part += " (p=\(p.rawValue) dis=\((r.disposition ?? .none).rawValue))" }
            if let reason = r.reason, r.published == nil { part += " (\(reason))" }
            parts.append(part + (r.fromDomain.isEmpty ? "" : " header.from=\(r.fromDomain)"))
        }
        guard !parts.isEmpty else { return nil }
        return "Authentication-Results: \(authservID);\r\n\t" + parts.joined(separator: ";\r\n\t")
    }
}

/// What an authentication condition of a rule tests.
public enum AuthenticationMethod: String, Sendable, Codable, Hashable, CaseIterable {
    case spf, dkim, dmarc
    case dmarcPolicy = "dmarc_policy"

    /// The values a condition on this method may name.
    public var values: [String] {
        switch self {
        case .spf: return AuthResult.allCases.map(\.rawValue)
        case .dkim: return ["pass", "fail", "neutral", "none", "temperror", "permerror"]
        case .dmarc: return ["pass", "fail", "none", "temperror", "permerror"]
        case .dmarcPolicy: return DMARCPolicy.allCases.map(\.rawValue)
        }
    }
}
