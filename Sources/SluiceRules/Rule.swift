// The rule model (SPEC §6): a rule set is an ordered list of rules; a rule has
// `when` conditions (all must match), `unless` conditions (none may match) and
// actions run in order. Pure values; RuleLoader builds them from YAML and
// RuleEvaluator runs them per recipient.

import Foundation
import SluiceCore

public struct RuleSet: Sendable {
    public var name: String
    public var file: String
    public var rules: [Rule]

    public init(name: String, file: String, rules: [Rule]) {
        self.name = name
        self.file = file
        self.rules = rules
    }
}

public struct Rule: Sendable {
    public var name: String
    public var when: [Condition]
    public var unless: [Condition]
    public var actions: [RuleAction]
}

extension RuleSet {
    /// Whether any rule tests attachment names or types (the message's MIME structure is then read).
    public var testsAttachments: Bool {
        func uses(_ c: Condition) -> Bool {
            switch c {
            case .string(.attachmentName, _), .string(.attachmentType, _): return true
            case .any(let list): return list.contains(where: uses)
            default: return false
            }
        }
        return rules.contains { $0.when.contains(where: uses) || $0.unless.contains(where: uses) }
    }
}

extension RuleSet {
    /// The authentication methods (spf, dkim, dmarc, dmarc_policy) its conditions test.
    public var testedAuthentication: Set<AuthenticationMethod> {
        func methods(_ c: Condition) -> [AuthenticationMethod] {
            switch c {
            case .authentication(let m, _): return [m]
            case .any(let list): return list.flatMap(methods)
            default: return []
            }
        }
        return Set(rules.flatMap { $0.when.flatMap(methods) + $0.unless.flatMap(methods) })
    }
}

/// What a string condition looks at.
public enum StringField: Sendable, Equatable, CustomStringConvertible {
    case sender, recipient, helo, listener, user
    /// A header by name; From/To/Cc/Sender/Reply-To are compared address by address.
    case header(String)
    /// Attachment file names (entries of zip attachments as "a.zip/b.csv") and content types.
    case attachmentName, attachmentType

    var holdsAddresses: Bool {
        switch self {
        case .sender, .recipient: return true
        case .header(let name): return ["from", "to", "cc", "sender", "reply-to"].contains(name.lowercased())
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .sender: return "sender"
        case .recipient: return "recipient"
        case .helo: return "helo"
        case .listener: return "listener"
        case .user: return "user"
        case .header(let n): return "header \(n)"
        case .attachmentName: return "attachment name"
        case .attachmentType: return "attachment type"
        }
    }
}

/// String operators, all case-insensitive.
public enum StringOperator: Sendable {
    case equals([String])
    case contains([String])
    case startsWith([String])
    case endsWith([String])
    /// The address's domain is one of these (".example" also matches subdomains).
    case domain([String])
    case matches(NSRegularExpressionBox)
    case inList(AddressList)
}

/// NSRegularExpression is immutable once made; this box lets it travel as Sendable.
public final class NSRegularExpressionBox: @unchecked Sendable {
    public let pattern: String
    let regex: NSRegularExpression

    public init(_ pattern: String) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    }

    func matches(_ s: String) -> Bool {
        regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}

public indirect enum Condition: Sendable {
    case string(StringField, StringOperator)
    case sizeAbove(Int)
    case sizeBelow(Int)
    case clientIP([CIDR])
    case tls(Bool)
    case tlsVersionAtLeast(String)
    case authenticated(Bool)
    /// A message authentication result (spf, dkim, dmarc, dmarc_policy) is one of these values.
    case authentication(AuthenticationMethod, [String])
    /// A DLP profile of rules/dlp.yaml found at least this many times (nil: the profile's min_count).
    case dlp(profile: String, minCount: Int?)
    /// Some attachment could not be scanned in full (for one of these reasons; nil: any), or, with
    /// `wanted` false, everything could.
    case unscannable(reasons: Set<UnscannableReason>?, wanted: Bool)
    /// At least one of these matches.
    case any([Condition])
}

public enum RuleAction: Sendable {
    case store(directory: String, onFailure: OnFailure, maxDeliveryTime: Double?)
    case relay(upstream: String, onFailure: OnFailure, maxDeliveryTime: Double?)
    /// Direct delivery to the recipient domain's MX hosts.
    case send(onFailure: OnFailure, maxDeliveryTime: Double?)
    /// Keep a copy in a named archive.
    case archive(name: String, onFailure: OnFailure)
    case quarantine
    case drop
    case reject(SMTPError)
    /// Accept, deliver nothing to this recipient, and send the sender a DSN with this reply.
    case bounce(SMTPError)
    case addHeader(name: String, value: String)
    case replaceRecipient([MailAddress])
    case tagSubject(String)
    /// Sign the message for this domain (R-CORE-2), whoever sent it; the loader checks that it has a key.
    case dkimSign(domain: String)
    case stop
}
