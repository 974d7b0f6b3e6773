// The DLP conditions of the rule language: `dlp: PROFILE` (or with
// `min_count:`), `dlp: { unscannable: ... }`, and `attachment: { name | type }`.
// They read the inspect stage's verdict (InspectionResults); a profile that
// rules/dlp.yaml does not define fails to load with file:line:column.

import SluiceConfig
import SluiceCore
import SluiceRules

/// A DLP profile found at least this many times (nil: the profile's min_count).
public struct DLPProfileCondition: RuleCondition {
    public let profile: String
    public let minCount: Int?

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let found = context.verdicts.inspection?.profiles[profile] else { return false }
        return found.count >= (minCount ?? found.minCount)
    }

    public var explanation: String { "dlp profile \(profile) found\(minCount.map { " at least \($0) times" } ?? "")" }
    public var reads: Set<String> { [InspectionResults.name] }
}

/// Some attachment could not be scanned in full (for one of these reasons; nil: any), or, with `wanted` false,
/// everything could.
public struct UnscannableCondition: RuleCondition {
    public let reasons: Set<UnscannableReason>?
    public let wanted: Bool

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        let found = context.verdicts.inspection?.unscannable ?? []
        return found.contains { reasons?.contains($0.reason) ?? true } == wanted
    }

    public var explanation: String {
        let which = reasons.map { " (\($0.map(\.rawValue).sorted().joined(separator: " or ")))" } ?? ""
        return wanted ? "an attachment could not be scanned\(which)" : "every attachment was scanned\(which)"
    }

    public var reads: Set<String> { [InspectionResults.name] }
}

/// One record of an Exact Data Match source with values from at least `minFields` of its columns in the message.
public struct EDMCondition: RuleCondition {
    public let source: String
    public let minFields: Int

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        (context.verdicts.inspection?.edm[source]?.fields ?? 0) >= minFields
    }

    public var explanation: String { "a record of \(source) matched in at least \(minFields) field\(minFields == 1 ? "" : "s")" }
    public var reads: Set<String> { [InspectionResults.name] }
}

/// `dlp: pci`, `dlp: { profile: pci, min_count: 3 }`, `dlp: { unscannable: true }`, `dlp: { unscannable: [encrypted, bomb] }`,
/// `dlp: { edm: customers, min_fields: 2 }`.
public struct DLPConditionKind: RuleConditionKind {
    public let key = "dlp"
    /// The profiles of rules/dlp.yaml.
    let profiles: Set<String>
    /// The Exact Data Match sources of `dlp.edm`.
    let edmSources: Set<String>

    public init(profiles: Set<String>, edmSources: Set<String> = []) {
        self.profiles = profiles
        self.edmSources = edmSources
    }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        var profile: String
        var minCount: Int?
        var at = value
        if value.isScalar {
            profile = try value.nonEmptyString()
        } else {
            let dm = try value.mapping(allowed: ["profile", "min_count", "unscannable", "edm", "min_fields"])
            if let e = dm["edm"] {
                guard dm["profile"] == nil, dm["min_count"] == nil, dm["unscannable"] == nil else {
                    throw value.error("'edm:' takes only 'min_fields:' with it")
                }
                let source = try e.nonEmptyString()
                guard edmSources.contains(source) else {
                    let known = edmSources.isEmpty ? "sluice.yaml's dlp.edm defines none" : "known: \(edmSources.sorted().joined(separator: ", "))"
                    throw e.error("no EDM source '\(source)' (\(known))")
                }
                return EDMCondition(source: source, minFields: try dm["min_fields"]?.int(in: 1...64) ?? 1)
            }
            if let f = dm["min_fields"] { throw f.error("'min_fields:' goes with 'edm:'") }
            if let u = dm["unscannable"] {
                guard dm.count == 1 else { throw value.error("'unscannable:' stands alone (no 'profile:' or 'min_count:' with it)") }
                if let wanted = u.boolValue { return UnscannableCondition(reasons: nil, wanted: wanted) }
                var reasons: Set<UnscannableReason> = []
                for item in u.isScalar ? [u] : try u.list() {
                    let name = try item.nonEmptyString()
                    guard let reason = UnscannableReason(rawValue: name.lowercased()) else {
                        let known = UnscannableReason.allCases.map(\.rawValue).joined(separator: ", ")
                        throw item.error("unscannable takes true, false or reasons (\(known)); '\(name)' is none of them")
                    }
                    reasons.insert(reason)
                }
                return UnscannableCondition(reasons: reasons, wanted: true)
            }
            guard let p = dm["profile"] else { throw value.error("dlp needs 'profile:' (a profile in rules/dlp.yaml)") }
            profile = try p.nonEmptyString()
            at = p
            minCount = try dm["min_count"]?.int(in: 1...1_000_000)
        }
        guard profiles.contains(profile) else {
            let known = profiles.isEmpty ? "rules/dlp.yaml defines none" : "known: \(profiles.sorted().joined(separator: ", "))"
            throw at.error("no DLP profile '\(profile)' (\(known))")
        }
        return DLPProfileCondition(profile: profile, minCount: minCount)
    }
}

/// Attachment file names (entries of zip attachments as "a.zip/b.csv") or content types.
public struct AttachmentCondition: RuleCondition {
    public let byName: Bool
    public let op: StringOperator

    public func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        let attachments = context.verdicts.inspection?.attachments ?? []
        let values = byName ? attachments.compactMap(\.name) : attachments.map(\.contentType)
        return values.contains { op.test($0, isAddress: false) }
    }

    public var explanation: String { "attachment \(byName ? "name" : "type") \(op.explanation)" }
    public var reads: Set<String> { [InspectionResults.name] }
}

/// `attachment: { name: { ends_with: [.exe, .js] } }` or `attachment: { type: [application/x-msdownload] }`.
public struct AttachmentConditionKind: RuleConditionKind {
    public let key = "attachment"

    public init() {}

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
        let am = try value.mapping(allowed: ["name", "type"])
        guard am.count == 1, let (what, op) = am.first else {
            throw value.error("attachment takes one of 'name:' or 'type:' with a string operator")
        }
        return AttachmentCondition(byName: what == "name", op: try loader.stringOperator(op, addresses: false))
    }
}
