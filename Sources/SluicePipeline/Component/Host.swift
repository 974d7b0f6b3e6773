// Host: what components contribute to a process that runs messages (the
// daemon, or `sluice rules test`'s dry run): the message stages in their
// places, session checks, delivery targets by kind, message modifiers in
// their order (DKIM signing last), services for the daemon's ServiceGroup,
// `sluice status` sections and the SMTP authenticator of each listener.

import Logging
import NIOCore
import ServiceLifecycle
import SluiceConfig
import SluiceCore
import SluiceQueue
import SluiceRules

/// What the process gives every component.
public struct HostEnvironment: Sendable {
    public enum Mode: Sendable, Equatable {
        /// The daemon: everything runs.
        case daemon
        /// One message, sending nothing and asking no network (`sluice rules test`): the verdicts that need the
        /// network or a scanner are given on the command line instead.
        case dryRun
    }

    public let mode: Mode
    /// The runtime in force now; the daemon replaces it on reload, and each message reads it once.
    public let runtime: RuntimeHolder
    /// Blocking work, by kind.
    public let executors: Executors
    public let logger: Logger
    /// The one clock.
    public let clock: any SluiceClock
    /// The resolver every DNS lookup goes through (nil in a dry run).
    public let resolver: (any DNSResolver)?
    /// The event loops outbound connections use (nil in a dry run).
    public let eventLoops: (any EventLoopGroup)?
    /// The stores of the configured backend.
    public let storage: Storage
    /// This node's queue (nil in a dry run).
    public let queue: QueueStore?
    /// What the stages computed for a queued message that its deliveries reuse (in memory, bounded).
    public let handoff: MessageHandoff
    /// Queues messages this host writes (reports), once the daemon's queue manager runs.
    public let localMail = LocalMail()
    /// Asks the daemon to reload (a component's shared state changed).
    public let reloads = ReloadRequests()

    public init(
        mode: Mode, runtime: RuntimeHolder, executors: Executors, logger: Logger, storage: Storage, clock: any SluiceClock = WallClock(),
        resolver: (any DNSResolver)? = nil, eventLoops: (any EventLoopGroup)? = nil, queue: QueueStore? = nil,
        handoff: MessageHandoff = MessageHandoff()
    ) {
        self.handoff = handoff
        self.storage = storage
        self.queue = queue
        self.mode = mode
        self.runtime = runtime
        self.executors = executors
        self.logger = logger
        self.clock = clock
        self.resolver = resolver
        self.eventLoops = eventLoops
    }

    /// The configuration the process started with (settings that need a restart come from here).
    public var config: SluiceConfiguration { runtime.current.config }
}

/// Where a message stage runs: stages run in place order, and within a place in the order of the component list.
public enum StagePlace: Int, Sendable, Comparable {
    /// Who vouches for the sender.
    case sender
    /// Message authentication (SPF, DKIM, DMARC, ARC).
    case verify
    /// Content inspection (DLP).
    case inspect
    /// External scanners (spam, virus).
    case scan

    public static func < (a: StagePlace, b: StagePlace) -> Bool { a.rawValue < b.rawValue }
}

/// Where a message modifier runs: in place order, and within a place in the order of the component list.
public enum ModifierPlace: Int, Sendable, Comparable {
    /// Removes what must not leave (forged Authentication-Results).
    case cleanup
    /// Changes envelope or header (Subject tags, sender rewriting).
    case transform
    /// DKIM signing: after every change to the message.
    case sign
    /// Seals over the signed message (ARC).
    case seal

    public static func < (a: ModifierPlace, b: ModifierPlace) -> Bool { a.rawValue < b.rawValue }
}

/// A `sluice status` section: a name and how to read it now.
public struct StatusSection: Sendable {
    public let name: String
    public let read: @Sendable () async -> JSONValue

    public init(name: String, read: @escaping @Sendable () async -> JSONValue) {
        self.name = name
        self.read = read
    }
}

public struct HostBuilder {
    public let environment: HostEnvironment
    var stages: [(place: StagePlace, stage: any MessageStage)] = []
    var checks: [any SessionCheck] = []
    var targets: [String: any DeliveryTarget] = [:]
    var modifiers: [(place: ModifierPlace, modifier: any MessageModifier)] = []
    var services: [any Service] = []
    var status: [StatusSection] = []
    var queueObservers: [any QueueObserver] = []
    var authenticator: (@Sendable (ListenerSettings) -> (any SMTPAuthenticator)?)?
    /// Each recipient domain's outbound TLS policy, as `send` asks it: the administrator's `delivery.tls_policy`
    /// unless a component publishes policies (MTA-STS) in its place.
    public let outboundTLSPolicy: OutboundTLSPolicySlot

    init(environment: HostEnvironment) {
        self.environment = environment
        let runtime = environment.runtime
        outboundTLSPolicy = OutboundTLSPolicySlot(fallback: StaticTLSPolicy { runtime.current.config.delivery.tlsPolicy })
    }

    public var mode: HostEnvironment.Mode { environment.mode }
    public var config: SluiceConfiguration { environment.config }

    public mutating func add(stage: any MessageStage, at place: StagePlace) { stages.append((place, stage)) }

    /// A check during the SMTP dialogue (connection, MAIL, RCPT); checks run in list order.
    public mutating func add(check: any SessionCheck) { checks.append(check) }

    /// The target of a kind this component declared in `configure`.
    public mutating func add(target: any DeliveryTarget, kind: String) throws {
        guard targets[kind] == nil else { throw VocabularyError("two delivery targets of kind '\(kind)'") }
        targets[kind] = target
    }

    public mutating func add(modifier: any MessageModifier, at place: ModifierPlace) { modifiers.append((place, modifier)) }

    /// A long-running task of the daemon (a purge, a probe), run in its ServiceGroup after the queue manager.
    public mutating func add(service: any Service) { services.append(service) }

    public mutating func add(status: StatusSection) { self.status.append(status) }

    /// Told when the queue changes (a message committed, changed, gone).
    public mutating func add(queueObserver: any QueueObserver) { queueObservers.append(queueObserver) }

    /// Decides outbound TLS per recipient domain in place of the administrator's table alone (one component may set
    /// it; it reads `delivery.tls_policy` itself, whose per-domain entries come first).
    public mutating func setOutboundTLSPolicy(_ source: any OutboundTLSPolicySource) throws {
        guard outboundTLSPolicy.set(source) else { throw VocabularyError("two components decide outbound TLS policies") }
    }

    /// How listeners that offer AUTH check credentials (one component may set it).
    public mutating func setAuthenticator(_ make: @escaping @Sendable (ListenerSettings) -> (any SMTPAuthenticator)?) throws {
        guard authenticator == nil else { throw VocabularyError("two components authenticate SMTP AUTH") }
        authenticator = make
    }
}

/// What a process runs messages with, built from the component list.
public struct Host: Sendable {
    public let environment: HostEnvironment
    public let pipeline: Pipeline
    public let sessionChecks: [any SessionCheck]
    public let targets: [String: any DeliveryTarget]
    public let modifiers: [any MessageModifier]
    public let services: [any Service]
    public let status: [StatusSection]
    /// Every component's queue observer, as one.
    public let queueObserver: QueueObservers
    let makeAuthenticator: (@Sendable (ListenerSettings) -> (any SMTPAuthenticator)?)?

    /// Activates every component; in the daemon, a target kind a component declared without its target is an error
    /// here, at the start, never a 451 at delivery.
    public static func build(_ components: [any Component], environment: HostEnvironment) throws -> Host {
        var b = HostBuilder(environment: environment)
        for c in components { try c.activate(&b) }
        if environment.mode == .daemon {
            for kind in environment.runtime.current.targetKinds.keys.sorted() where b.targets[kind] == nil {
                throw RuntimeError("target kind '\(kind)' is declared but no component delivers it")
            }
        }
        let stages = b.stages.enumerated().sorted { ($0.element.place, $0.offset) < ($1.element.place, $1.offset) }.map(\.element.stage)
        let modifiers = b.modifiers.enumerated().sorted { ($0.element.place, $0.offset) < ($1.element.place, $1.offset) }
            .map(\.element.modifier)
        return Host(
            environment: environment, pipeline: Pipeline(stages: stages), sessionChecks: b.checks, targets: b.targets,
            modifiers: modifiers, services: b.services, status: b.status, queueObserver: QueueObservers(b.queueObservers),
            makeAuthenticator: b.authenticator)
    }

    /// The authenticator of a listener that offers AUTH (nil: none is configured, AUTH fails temporarily).
    public func authenticator(for listener: ListenerSettings) -> (any SMTPAuthenticator)? {
        listener.auth.offersAuth ? makeAuthenticator?(listener) : nil
    }
}
