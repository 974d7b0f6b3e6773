// ConfigSection: a top-level key of the configuration that a component owns
// (`archives:`, `upstreams:`, `scanners:` ...). The component's own reader
// turns it into a Sendable value with ConfigNode, so its errors name
// file:line:column and its unknown keys are refused like any other; the
// configuration file knows only the keys of the core and those the
// components list (SluiceConfiguration.load(file:sections:)).

/// The prefix of a storage backend's section: `storage: { backend: postgres, postgres: {...} }` is read by the section
/// whose key is "storage.postgres".
public let storageSectionPrefix = "storage."

public protocol ConfigSection: Sendable {
    /// The top-level key, or "storage.NAME" for a storage backend's settings under `storage:`.
    static var key: String { get }
    /// Reads the section; `node` is nil when the key is absent (then the defaults).
    init(_ node: ConfigNode?, _ context: ConfigContext) throws
}

/// What a section reader may need of the rest of the configuration.
public struct ConfigContext: Sendable {
    /// The configuration file.
    public let file: String
    /// What relative paths resolve against: the parent of the config file's directory.
    public let baseDirectory: String
    public let dataDir: String
    public let hostname: String

    /// A path of the config made absolute against `baseDirectory`.
    public func resolve(_ path: String) -> String { SluiceConfiguration.resolve(path, against: baseDirectory) }
}

extension SluiceConfiguration {
    /// The section a component read, by its type; nil when that component is not in the list it was loaded with.
    public func section<S: ConfigSection>(_ type: S.Type) -> S? { sections[S.key] as? S }
}

/// A component's section that names domains this gateway answers for besides `local_domains` (the SRS domain,
/// whose addresses are bounces coming back): relay control accepts mail for them from anyone, and the component's
/// own session check decides which addresses there are real.
public protocol ServedDomains {
    var servedDomains: [String] { get }
}

extension SluiceConfiguration {
    /// The domains the components' sections serve.
    public var servedDomains: [String] { sections.values.compactMap { $0 as? any ServedDomains }.flatMap(\.servedDomains).sorted() }
}
