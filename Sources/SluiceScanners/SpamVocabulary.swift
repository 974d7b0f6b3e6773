// The spam vocabulary of the rule language: `spam: true` (spamd's own
// threshold), `spam: false`, `spam: { score: { gt: 6 } }` (gt, gte, lt, lte),
// `spam: { symbol: BAYES_99 }` (one rule name or a list: any of them hit);
// and the action `spam_headers: true`, which adds `X-Spam-Status` and
// `X-Spam-Score` as SpamAssassin writes them. Testing `spam:` without
// `scanners.spam` configured fails to load with file:line:column.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct SpamCondition: RuleCondition {
    public enum Test: Sendable {
        case verdict(Bool)
        case score(comparison: String, value: Double)
        case symbols(Set<String>)
    }

    public let test: Test

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let r = context.verdicts[SpamResults.self], r.unavailable == nil else {
            if case .verdict(let wanted) = test { return !wanted && context.verdicts[SpamResults.self]?.unavailable == nil }
            return false
        }
        switch test {
        case .verdict(let wanted): return r.isSpam == wanted
        case .score(let comparison, let value):
            switch comparison {
            case "gt": return r.score > value
            case "gte": return r.score >= value
            case "lt": return r.score < value
            default: return r.score <= value
            }
        case .symbols(let names): return !names.isDisjoint(with: r.symbols)
        }
    }

    public var explanation: String {
        switch test {
        case .verdict(let wanted): return wanted ? "SpamAssassin calls it spam" : "SpamAssassin does not call it spam"
        case .score(let comparison, let value): return "the spam score is \(comparison) \(value)"
        case .symbols(let names): return "SpamAssassin's rule \(names.sorted().joined(separator: " or ")) hit"
        }
    }

    public var reads: Set<String> { [SpamResults.name] }
}

public struct SpamConditionKind: RuleConditionKind {
    public let key = "spam"
    let configured: Bool

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        guard configured else {
            throw value.error("no spam scanner is configured: add scanners: { spam: { spamd: \"127.0.0.1:783\" } } to sluice.yaml")
        }
        if let wanted = value.boolValue { return SpamCondition(test: .verdict(wanted)) }
        let m = try value.mapping(allowed: ["score", "symbol"])
        guard m.count == 1 else { throw value.error("spam takes true, false, { score: { gt: N } } or { symbol: NAME }") }
        if let s = m["score"] {
            let c = try s.mapping(allowed: ["gt", "gte", "lt", "lte"])
            guard c.count == 1, let (comparison, number) = c.first, let v = Double(try number.string()) else {
                throw s.error("score takes one of gt, gte, lt, lte with a number: { gt: 6 }")
            }
            return SpamCondition(test: .score(comparison: comparison, value: v))
        }
        let names = try m["symbol"]!.stringList()
        guard !names.isEmpty else { throw m["symbol"]!.error("symbol names a SpamAssassin rule, as BAYES_99") }
        return SpamCondition(test: .symbols(Set(names)))
    }
}

struct SpamHeadersAction: RuleAction {
    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        if let r = context.verdicts[SpamResults.self] { outcome.addHeaders += r.headers }
        return .next
    }

    var logText: String { "spam_headers" }

    struct Kind: RuleActionKind {
        let key = "spam_headers"
        let configured: Bool

        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            guard configured else { throw value.error("no spam scanner is configured: add scanners: { spam: { spamd: \"127.0.0.1:783\" } }") }
            guard value.boolValue == true else { throw value.error("spam_headers takes true") }
            return SpamHeadersAction()
        }
    }
}
