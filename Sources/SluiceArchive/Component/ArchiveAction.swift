// The `archive:` rule action: a copy of the message, as it arrived, kept in a
// named archive. The archive is a route of the plan (queued, retried, kept
// across a crash); it never gives up on its own (on_failure: defer by
// default), and an archive that `archives:` does not name fails to load.

import SluiceConfig
import SluiceCore
import SluiceRules

public struct ArchiveAction: RuleAction {
    public let name: String
    public let onFailure: OnFailure

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        // Archiving never gives up on its own: a full disk waits (defer) rather than losing the copy.
        outcome.deliver(Delivery(target: .archive(name: name), onFailure: onFailure, signable: false))
        return .next
    }

    public var logText: String { "archive \(name)" }
    public var routes: [RouteTarget] { [.archive(name: name)] }
}

/// `archive: default` or `archive: { name: legal, on_failure: defer }`.
public struct ArchiveActionKind: RuleActionKind {
    public let key = "archive"
    let archives: Set<String>

    public init(archives: Set<String>) { self.archives = archives }

    public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
        var name: String
        var onFailure = OnFailure.defer
        var at = value
        if value.isScalar {
            name = try value.nonEmptyString()
        } else {
            let am = try value.mapping(allowed: ["name", "on_failure"])
            guard let n = am["name"] else { throw value.error("archive needs 'name:' (an archive under archives:)") }
            name = try n.nonEmptyString()
            at = n
            onFailure = try RuleLoader.failurePolicy(am["on_failure"], default: .defer)
        }
        guard archives.contains(name) else {
            let known = archives.isEmpty ? "none are configured" : "known: \(archives.sorted().joined(separator: ", "))"
            throw at.error("archive '\(name)' is not defined under archives: in the config (\(known))")
        }
        return ArchiveAction(name: name, onFailure: onFailure)
    }
}
