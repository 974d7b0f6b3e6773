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
    /// The bytes that continue a value at its end. When set, a match followed by one of them is dropped in
    /// vectorscan's callback, before any allocation: only the end of a run of digits or base64 can be a
    /// value, and the runs can no longer flood the match limit.
    public var edge: EdgeClass?
    /// Values are exactly this long and end where the pattern does (the pattern may begin earlier, at a keyword).
    public var fixedLength: Int?

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

    static func with(_ edge: EdgeClass, _ d: Detector) -> Detector {
        var d = d
        d.edge = edge
        return d
    }

    public static let predefined: [String: Detector] = Dictionary(
        uniqueKeysWithValues: [
            with(.word, Detector(
                id: "credit_card", expressions: [#"\d(?:[ -]?\d){12,18}"#], validate: { Validators.creditCard($0) },
                redact: Redaction.card)),
            with(.word, Detector(
                id: "us_ssn", expressions: [#"\d{3}-\d{2}-\d{4}"#, #"\d{3} \d{2} \d{4}"#], validate: { Validators.usSSN($0) },
                redact: Redaction.lastDigits(4))),
            with(.word, Detector(
                id: "iban", expressions: [#"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}"#], validate: { Validators.iban($0) },
                redact: Redaction.ends)),
            with(.word, Detector(
                id: "aws_access_key_id", expressions: [#"(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}"#],
                redact: Redaction.ends)),
            // The 40-character value is only a secret key next to words that say so, and a bare class run of 40
            // would match at every byte of any base64 or hex blob; so the pattern starts at the words (the value
            // follows on the same line, within 40 characters) and the value is the last 40 bytes of the match.
            {
                var d = Detector(
                    id: "aws_secret_access_key",
                    expressions: [
                        #"(?i:secret_access_key|secretaccesskey|secret access key|aws_secret|aws secret|secret_key|secret key)[^\r\n]{0,40}[A-Za-z0-9/+]{40}"#
                    ],
                    validate: { s in s.contains { $0.isLowercase } && s.contains { $0.isUppercase } && s.contains { $0.isNumber } },
                    redact: Redaction.ends)
                d.fixedLength = 40
                d.edge = .base64
                return d
            }(),
            Detector(
                id: "private_key", expressions: [#"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"#],
                needsBoundaries: false, redact: { $0 }),
            {
                var d = Detector(
                    id: "email_address", expressions: [#"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"#],
                    validate: { Validators.email($0) }, redact: Redaction.email)
                d.extendLeft = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-".utf8)
                d.edge = .hostname
                return d
            }(),
            with(.word, Detector(
                id: "phone_number",
                expressions: [
                    #"(?:\+\d{1,3}[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]\d{4}"#, #"\+\d{1,3}(?:[ .-]?\d{1,4}){2,5}"#,
                ],
                validate: { Validators.phone($0) }, redact: Redaction.lastDigits(2))),
            with(.token, Detector(
                id: "jwt", expressions: [#"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}"#],
                validate: { Validators.jwt($0) }, redact: Redaction.prefix(10))),
        ].map { ($0.id, $0) })
}

/// The bytes that continue a value (see `Detector.edge`).
public struct EdgeClass: Sendable {
    public let bytes: Set<UInt8>

    /// ASCII letters and digits, non-ASCII bytes, and `extra`.
    init(extra: String) {
        var b = Set<UInt8>(extra.utf8)
        b.formUnion(UInt8(ascii: "0")...UInt8(ascii: "9"))
        b.formUnion(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        b.formUnion(UInt8(ascii: "a")...UInt8(ascii: "z"))
        b.formUnion(0x80...0xFF)
        bytes = b
    }

    /// Letters, digits and non-ASCII bytes (the engine's own boundary test).
    public static let word = EdgeClass(extra: "")
    /// Word bytes and the base64 alphabet's "/" and "+".
    public static let base64 = EdgeClass(extra: "/+")
    /// Word bytes and the base64url alphabet's "-" and "_".
    public static let token = EdgeClass(extra: "_-")
    /// Word bytes and "-", as in host names.
    public static let hostname = EdgeClass(extra: "-")
}

/// Showing a finding without its value (R-DLP-4).
public enum Redaction {
    /// "4111 **** **** 1111": the first and last four digits, separators kept.
    @Sendable public static func card(_ s: String) -> String { digits(s, first: 4, last: 4) }

    /// Only the last `n` digits: "***-**-6789".
    public static func lastDigits(_ n: Int) -> @Sendable (String) -> String { { digits($0, first: 0, last: n) } }

    /// Digits starred except the first and last few; everything else kept.
    static func digits(_ s: String, first: Int, last: Int) -> String {
        var bytes = Array(s.utf8)
        let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
        let total = bytes.reduce(0) { $0 + (isDigit($1) ? 1 : 0) }
        var seen = 0
        for i in bytes.indices where isDigit(bytes[i]) {
            seen += 1
            if seen > first && seen <= total - last { bytes[i] = UInt8(ascii: "*") }
        }
        return String(decoding: bytes, as: UTF8.self)
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
