// MTASTSPolicy: the policy file of RFC 8461 §3.2, read strictly: `version:
// STSv1`, `mode:` enforce | testing | none, `max_age:` seconds (at most
// 31557600), and in enforce and testing at least one `mx:` pattern. Lines
// end in CRLF or LF; unknown keys are ignored, as the RFC says; anything
// else wrong makes it no policy.

import Foundation
import SluiceCore

public struct MTASTSPolicy: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable {
        case enforce, testing, none
    }

    public var mode: Mode
    public var maxAge: Int
    public var mx: [String]

    /// The largest max_age the RFC allows (a year).
    public static let maxAgeLimit = 31_557_600

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> MTASTSPolicy {
        var version: String?
        var mode: Mode?
        var maxAge: Int?
        var mx: [String] = []
        // CRLF is one Character in a Swift String: split on any line end.
        for line in text.split(whereSeparator: \.isNewline) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "a line without a colon: '\(line.prefix(80))'") }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "version":
                guard version == nil else { throw ParseError(description: "version given twice") }
                version = value
            case "mode":
                guard mode == nil else { throw ParseError(description: "mode given twice") }
                guard let m = Mode(rawValue: value) else { throw ParseError(description: "mode must be enforce, testing or none, got '\(value.prefix(40))'") }
                mode = m
            case "max_age":
                guard maxAge == nil else { throw ParseError(description: "max_age given twice") }
                guard value.count <= 10, value.allSatisfy(\.isASCII), let n = Int(value), n >= 0 else {
                    throw ParseError(description: "max_age must be a number of seconds, got '\(value.prefix(40))'")
                }
                maxAge = min(n, maxAgeLimit)
            case "mx":
                guard isPattern(value) else { throw ParseError(description: "mx is not a host name or *.domain pattern: '\(value.prefix(80))'") }
                mx.append(value.lowercased())
            default:
                continue  // extensions: ignored (RFC 8461 §3.2)
            }
        }
        guard version == "STSv1" else { throw ParseError(description: version == nil ? "no version" : "version is not STSv1") }
        guard let mode else { throw ParseError(description: "no mode") }
        guard let maxAge else { throw ParseError(description: "no max_age") }
        if mode != .none && mx.isEmpty { throw ParseError(description: "mode \(mode.rawValue) without an mx pattern") }
        return MTASTSPolicy(mode: mode, maxAge: maxAge, mx: mx)
    }

    /// What `send` does under it (nil for mode none: the domain's default applies).
    public var decision: DomainTLSPolicy? {
        switch mode {
        case .enforce: DomainTLSPolicy(mode: .verify, mxPatterns: mx, source: "mta-sts enforce")
        case .testing: DomainTLSPolicy(mode: .verify, mxPatterns: mx, source: "mta-sts testing", testing: true)
        case .none: nil
        }
    }

    private static func isPattern(_ s: String) -> Bool {
        let host = s.hasPrefix("*.") ? String(s.dropFirst(2)) : s
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}
