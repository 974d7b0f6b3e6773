// Storage: where shared state lives (credentials and the AUTH throttle, rate
// limits, the archive, the quarantine index, DKIM keys ...). Each kind of
// state is an async store protocol with a contract test suite; components
// provide implementations per backend (StoreRegistry), and `storage.backend`
// picks one (the embedded "sqlite" by default: SQLite files, key files and
// memory on this machine). The daemon and the CLI ask Storage for a contract,
// never for a concrete type, so a second backend changes neither.

import Logging
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore

/// What a store is opened with.
public struct StorageContext: Sendable {
    public let config: SluiceConfiguration
    public let executors: Executors
    public let clock: any SluiceClock
    public let logger: Logger

    public init(config: SluiceConfiguration, executors: Executors, clock: any SluiceClock, logger: Logger) {
        self.config = config
        self.executors = executors
        self.clock = clock
        self.logger = logger
    }
}

/// The embedded backend's name: every contract has an implementation there.
public let embeddedBackend = "sqlite"

/// Which implementation of each store contract a backend has, as the components provide them.
public struct StoreRegistry: Sendable {
    struct Key: Hashable {
        var contract: ObjectIdentifier
        var backend: String
    }

    var factories: [Key: @Sendable (StorageContext) throws -> any Sendable] = [:]
    var contracts: [ObjectIdentifier: String] = [:]
    public private(set) var backends: Set<String> = [embeddedBackend]

    public init() {}

    /// `make` opens the `backend`'s implementation of `contract` (an existential, such as `(any CredentialStoring).self`).
    public mutating func provide<S: Sendable>(_ contract: S.Type, backend: String = embeddedBackend, _ make: @escaping @Sendable (StorageContext) throws -> S) {
        let id = ObjectIdentifier(contract)
        factories[Key(contract: id, backend: backend)] = { try make($0) as any Sendable }
        contracts[id] = "\(contract)"
        backends.insert(backend)
    }
}

/// The stores of one process, opened on first use and kept.
public final class Storage: Sendable {
    public let backend: String
    let registry: StoreRegistry
    let context: StorageContext
    private let opened = NIOLockedValueBox<[ObjectIdentifier: any Sendable]>([:])

    /// The registry of every component of the list; `config.storage.backend` must be one a component provides.
    public init(components: [any Component], context: StorageContext) throws {
        var registry = StoreRegistry()
        for c in components { c.provideStores(&registry) }
        let backend = context.config.storage.backend
        guard registry.backends.contains(backend) else {
            throw RuntimeError(
                "\(context.config.storage.location): storage.backend: no component provides '\(backend)' (known: \(registry.backends.sorted().joined(separator: ", ")))")
        }
        self.backend = backend
        self.registry = registry
        self.context = context
    }

    /// Stores for a command or a test: one thread per kind of blocking work, the wall clock, no log.
    public convenience init(components: [any Component], config: SluiceConfiguration) throws {
        let executors = Executors.single()
        executors.start()
        try self.init(
            components: components,
            context: StorageContext(config: config, executors: executors, clock: WallClock(), logger: Logger(label: "sluice") { _ in SwiftLogNoOpLogHandler() }))
    }

    /// The store of a contract: the selected backend's implementation, else the embedded one (state a backend does not
    /// share stays on this machine).
    public func store<S: Sendable>(_ contract: S.Type) throws -> S {
        let id = ObjectIdentifier(contract)
        return try opened.withLockedValue { opened in
            if let s = opened[id] as? S { return s }
            guard
                let make = registry.factories[.init(contract: id, backend: backend)]
                    ?? registry.factories[.init(contract: id, backend: embeddedBackend)]
            else { throw RuntimeError("no component provides a store for \(contract)") }
            guard let store = try make(context) as? S else { throw RuntimeError("the store made for \(contract) is not one") }
            opened[id] = store
            return store
        }
    }
}
