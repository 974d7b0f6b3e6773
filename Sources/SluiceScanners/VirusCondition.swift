// `virus: true` (the scanner found something), `virus: false`, and
// `virus: { name: { starts_with: Eicar } }` (what it found, with the rules'
// string operators). A rule testing `virus:` without `scanners.virus`
// configured fails to load with file:line:column.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct VirusCondition: RuleCondition {
    /// nil: found anything (or, with `wanted` false, nothing).
    public let name: StringOperator?
    public let wanted: Bool

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        let found = context.verdicts[VirusResults.self]?.found
        guard let name else { return (found != nil) == wanted }
        return found.map { name.test($0, isAddress: false) } ?? false
    }

    public var explanation: String {
        name.map { "the virus scanner found a signature whose name \($0.explanation)" }
            ?? (wanted ? "the virus scanner found something" : "the virus scanner found nothing")
    }

    public var reads: Set<String> { [VirusResults.name] }
}

public struct VirusConditionKind: RuleConditionKind {
    public let key = "virus"
    let configured: Bool

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        guard configured else {
            throw value.error("no virus scanner is configured: add scanners: { virus: { socket: /run/clamav/clamd.ctl } } to sluice.yaml")
        }
        if let wanted = value.boolValue { return VirusCondition(name: nil, wanted: wanted) }
        let m = try value.mapping(allowed: ["name"])
        guard let n = m["name"] else { throw value.error("virus takes true, false or { name: OPERATOR }") }
        return VirusCondition(name: try loader.stringOperator(n, addresses: false), wanted: true)
    }
}
