// String operators (SPEC §6): equals, contains, starts_with, ends_with,
// domain, matches and in_list, all case-insensitive. One implementation for
// every condition that compares text: the rules' message fields, the
// conditions components add (attachment names, a scanner's symbols, a
// client certificate's subject) and the traffic policies' sender, recipient,
// HELO and user.

import Foundation

public enum StringOperator: Sendable {
    case equals([String])
    case contains([String])
    case startsWith([String])
    case endsWith([String])
    /// The address's domain is one of these (".example" also matches subdomains).
    case domain([String])
    case matches(NSRegularExpressionBox)
    case inList(AddressList)

    /// The operator keys a rule file may use.
    public static let keys = ["equals", "contains", "starts_with", "ends_with", "domain", "matches", "in_list"]

    /// Whether `value` passes; `isAddress`: it is a mail address (domain and in_list apply only to those).
    public func test(_ value: String, isAddress: Bool) -> Bool {
        let v = value.lowercased()
        switch self {
        case .equals(let xs): return xs.contains { $0.lowercased() == v }
        case .contains(let xs): return xs.contains { v.contains($0.lowercased()) }
        case .startsWith(let xs): return xs.contains { v.hasPrefix($0.lowercased()) }
        case .endsWith(let xs): return xs.contains { v.hasSuffix($0.lowercased()) }
        case .domain(let xs):
            guard let at = v.lastIndex(of: "@") else { return false }
            var d = String(v[v.index(after: at)...])
            if d.hasSuffix(".") { d.removeLast() }
            return xs.contains { p in
                let p = p.lowercased()
                return p.hasPrefix(".") ? d.hasSuffix(p) : d == p
            }
        case .matches(let re): return re.matches(value)
        case .inList(let list): return isAddress && list.contains(v)
        }
    }

    /// "equals a,b", "matches /x/", for explanations.
    public var explanation: String {
        switch self {
        case .equals(let xs): return "equals \(xs.joined(separator: ","))"
        case .contains(let xs): return "contains \(xs.joined(separator: ","))"
        case .startsWith(let xs): return "starts_with \(xs.joined(separator: ","))"
        case .endsWith(let xs): return "ends_with \(xs.joined(separator: ","))"
        case .domain(let xs): return "domain \(xs.joined(separator: ","))"
        case .matches(let re): return "matches /\(re.pattern)/"
        case .inList(let l): return "in_list \(l.name)"
        }
    }
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

extension StringOperator {
    /// `field: value` (equals), `field: [a, b]`, or `field: { OPERATOR: ... }`; `list` finds an address list by name.
    public static func parse(
        _ node: ConfigNode, addresses: Bool, list: (String, ConfigNode) throws -> AddressList
    ) throws -> StringOperator {
        if node.isScalar || node.node.sequence != nil {
            return .equals(try node.stringList())  // shorthand: sender: a@b.example
        }
        let m = try node.mapping(allowed: keys)
        return try parse(entries: m, at: node, addresses: addresses, list: list)
    }

    /// The one operator among `m`'s entries (a mapping that may also hold other keys, as `header:` does).
    public static func parse(
        entries m: [String: ConfigNode], at node: ConfigNode, addresses: Bool, list: (String, ConfigNode) throws -> AddressList
    ) throws -> StringOperator {
        guard m.count == 1, let (op, value) = m.first else {
            throw node.error("use exactly one operator: equals, contains, starts_with, ends_with, domain, matches or in_list")
        }
        switch op {
        case "equals": return .equals(try value.stringList())
        case "contains": return .contains(try value.stringList())
        case "starts_with": return .startsWith(try value.stringList())
        case "ends_with": return .endsWith(try value.stringList())
        case "domain":
            guard addresses else { throw value.error("'domain' applies to addresses (sender, recipient, from, to, cc)") }
            return .domain(try value.stringList())
        case "matches":
            let pattern = try value.nonEmptyString()
            do { return .matches(try NSRegularExpressionBox(pattern)) } catch {
                throw value.error("not a valid regular expression: \(pattern)")
            }
        default:
            guard addresses else { throw value.error("'in_list' applies to addresses (sender, recipient, from, to, cc)") }
            return .inList(try list(try value.nonEmptyString(), value))
        }
    }
}
