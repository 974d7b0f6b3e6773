// Detector: one kind of sensitive data: the vectorscan expressions that find
// candidates, the validation that decides, the words that must be nearby (if
// any), and how a finding is shown without its value. The predefined
// detectors of SPEC §1 are here; custom ones come from rules/dlp.yaml.

import Foundation

public struct Detector: Sendable {
    public var id: String
    public var expressions: [String]
    public var caseless = false
    /// Candidates must not touch letters or digits on either side (a number inside a longer number is not one).
    public var needsBoundaries = true
    public var validate: @Sendable (String) -> Bool
    /// At least one of these (lowercase) must occur within `proximity` characters of the candidate.
    public var keywords: [String] = []
    public var proximity = 100
    public var redact: @Sendable (String) -> String
    /// Bytes a candidate's start may be extended left over (after the match): lets a pattern begin at a
    /// literal ("@" of an address) instead of an unbounded class, which vectorscan matches far faster.
    public var extendLeft: Set<UInt8> = []

    public init(
        id: String, expressions: [String], caseless: Bool = false, needsBoundaries: Bool = true, keywords: [String] = [],
        proximity: Int = 100, validate: @escaping @Sendable (String) -> Bool = { _ in true },
        redact: @escaping @Sendable (String) -> String = Redaction.ends
    ) {
        self.id = id
        self.expressions = expressions
        self.caseless = caseless
        self.needsBoundaries = needsBoundaries
        self.keywords = keywords
        self.proximity = proximity
        self.validate = validate
        self.redact = redact
    }

    public static let predefined: [String: Detector] = Dictionary(
        uniqueKeysWithValues: [
            Detector(
                id: "credit_card", expressions: [#"\d(?:[ -]?\d){12,18}"#], validate: { Validators.creditCard($0) },
                redact: Redaction.card),
            Detector(
                id: "us_ssn", expressions: [#"\d{3}-\d{2}-\d{4}"#, #"\d{3} \d{2} \d{4}"#], validate: { Validators.usSSN($0) },
                redact: Redaction.lastDigits(4)),
            Detector(
                id: "iban", expressions: [#"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}"#], validate: { Validators.iban($0) },
                redact: Redaction.ends),
            Detector(
                id: "aws_access_key_id", expressions: [#"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}"#],
                redact: Redaction.ends),
            Detector(
                id: "aws_secret_access_key", expressions: [#"[A-Za-z0-9/+]{40}"#],
                keywords: ["secret_access_key", "secretaccesskey", "secret access key", "aws_secret", "aws secret", "secret_key", "secret key"],
                proximity: 60,
                validate: { s in s.contains { $0.isLowercase } && s.contains { $0.isUppercase } && s.contains { $0.isNumber } },
                redact: Redaction.ends),
            Detector(
                id: "private_key", expressions: [#"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"#],
                needsBoundaries: false, redact: { $0 }),
            {
                var d = Detector(
                    id: "email_address", expressions: [#"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"#],
                    validate: { Validators.email($0) }, redact: Redaction.email)
                d.extendLeft = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-".utf8)
                return d
            }(),
            Detector(
                id: "phone_number",
                expressions: [
                    #"(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}"#, #"\+\d{1,3}(?:[ .-]?\d{1,4}){2,5}"#,
                ],
                validate: { Validators.phone($0) }, redact: Redaction.lastDigits(2)),
            Detector(
                id: "jwt", expressions: [#"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"#],
                validate: { Validators.jwt($0) }, redact: Redaction.prefix(10)),
        ].map { ($0.id, $0) })
}

/// Showing a finding without its value (R-DLP-4).
public enum Redaction {
    /// "4111 **** **** 1111": the first and last four digits, separators kept.
    @Sendable public static func card(_ s: String) -> String { digits(s, first: 4, last: 4) }

    /// Only the last `n` digits: "***-**-6789".
    public static func lastDigits(_ n: Int) -> @Sendable (String) -> String { { digits($0, first: 0, last: n) } }

    /// Digits starred except the first and last few; everything else kept.
    static func digits(_ s: String, first: Int, last: Int) -> String {
        let total = s.filter(\.isNumber).count
        var seen = 0
        return String(
            s.map { c -> Character in
                guard c.isNumber else { return c }
                seen += 1
                return seen <= first || seen > total - last ? c : "*"
            })
    }

    /// The first and last four characters, the rest starred ("AKIA************MPLE").
    @Sendable public static func ends(_ s: String) -> String {
        guard s.count > 10 else { return String(repeating: "*", count: s.count) }
        return String(s.prefix(4)) + String(repeating: "*", count: s.count - 8) + String(s.suffix(4))
    }

    public static func prefix(_ n: Int) -> @Sendable (String) -> String {
        { s in String(s.prefix(n)) + "…(\(s.count) chars)" }
    }

    /// "j***@example.test".
    @Sendable public static func email(_ s: String) -> String {
        guard let at = s.lastIndex(of: "@") else { return ends(s) }
        return String(s.prefix(1)) + "***" + String(s[at...])
    }
}
