// Component: a capability of the gateway (sender identity, mail
// authentication, DLP, the archive, delivery targets, and what comes next: a
// scanner, LMTP, a storage backend). It names the configuration sections it
// reads and contributes what it has, in two steps:
//
//   configure  for every runtime built from a configuration (the start, each
//              reload, `sluice check`, `sluice rules test`): rule conditions
//              and actions, the instances its targets deliver to, verdict
//              types, its per-runtime state (a part), warnings. Pure: reads
//              files, starts nothing.
//   activate   once per process that runs messages (the daemon; a dry run):
//              message stages, session checks, delivery targets, message
//              modifiers, services, status sections, an SMTP authenticator.
//
// One list of components (SluiceComponents/Components.swift) is what the
// daemon, `rules test`, `check` and `reload` build from; nothing else
// enumerates stages, targets or modifiers.

import SluiceConfig

public protocol Component: Sendable {
    /// A short name, unique in the list ("dlp", "archive"), for logs and `sluice status`.
    var name: String { get }
    /// The top-level configuration keys it owns, each with its reader.
    var sections: [any ConfigSection.Type] { get }
    /// The conditions it adds to the traffic policies' statements (`dnsbl:`), parsed with the configuration.
    var policyConditions: [any PolicyConditionKind] { get }
    /// Adds what it contributes to a runtime being built from `runtime.config` (reading its stores: `runtime.storage`).
    func configure(_ runtime: inout RuntimeBuilder) async throws
    /// What `sluice check` says about a built runtime (and the daemon logs at start and reload).
    func review(_ runtime: Runtime) -> [CheckNote]
    /// Adds what it contributes to a process running messages.
    func activate(_ host: inout HostBuilder) throws
    /// The stores it implements, per backend (its embedded ones; a database's, for a backend component).
    func provideStores(_ stores: inout StoreRegistry)
}

extension Component {
    public var sections: [any ConfigSection.Type] { [] }
    public var policyConditions: [any PolicyConditionKind] { [] }
    public func configure(_ runtime: inout RuntimeBuilder) async throws {}
    public func review(_ runtime: Runtime) -> [CheckNote] { [] }
    public func activate(_ host: inout HostBuilder) throws {}
    public func provideStores(_ stores: inout StoreRegistry) {}
}

/// One line of `sluice check`: a warning (on stderr, logged by the daemon) or what a component does (stdout).
public enum CheckNote: Sendable, Equatable {
    case warning(String)
    case info(String)
}

extension Array where Element == any Component {
    /// Every section reader of the list, to load a configuration with.
    public var sections: [any ConfigSection.Type] { flatMap(\.sections) }
    /// Every policy condition kind of the list.
    public var policyConditions: [any PolicyConditionKind] { flatMap(\.policyConditions) }
}
