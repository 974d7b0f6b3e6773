// Daemon: builds the pipeline from a configuration and runs it as a
// ServiceGroup: queue manager first, then the admin listener, the reload
// handler, and the SMTP listeners last (they stop first on shutdown).
// Config and TLS problems are reported before any port is bound (R-OPS-4).

import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Prometheus
import ServiceLifecycle
import SluiceConfig
import SluiceCore
import SluiceDNS
import SluiceDelivery
import SluicePipeline
import SluiceQueue
import SluiceSMTP
import SluiceServer
import UnixSignals

public struct Daemon {
    public let config: SluiceConfiguration
    /// The capabilities it runs (the composition root's list; tests may add their own).
    public let components: [any Component]
    public var logger: Logger
    /// How long sessions in flight may run after SIGTERM before they get a 421.
    public var shutdownGrace: Double = 30
    /// The one clock everything that reads the time is given.
    public var clock: any SluiceClock = WallClock()
    /// Stops the daemon as SIGTERM does, from this process.
    public var shutdown = DaemonShutdown()

    public init(config: SluiceConfiguration, components: [any Component], logger: Logger) {
        self.config = config
        self.components = components
        self.logger = logger
    }

    /// Installs the Prometheus registry as the swift-metrics backend (once per process).
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    public func run(metrics registry: PrometheusCollectorRegistry) async throws {
        let started = clock.now()
        // Trap SIGHUP before anything can learn our pid: its default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let rescans = await UnixSignalsSequence(trapping: .sigusr1)
        // 1. Everything that can fail because of the config, before binding.
        let log = logger
        let store = try QueueStore(directory: config.queueDirectory) { id, why in
            log.event(.error, level: .error, "queue file unreadable", [.queueID: id.rawValue, .reason: why])
            SluiceMetrics.queueCorruption()
        }
        for action in try store.recover() {
            logger.event(.recover, level: .notice, "queue recovery", [.file: action])
            if action.contains("corrupt/") { SluiceMetrics.queueCorruption() }
        }
        try FileSystem.makeDirectory(config.delivery.storeDirectory)
        // Blocking work by kind, each on its own pool (Executors); the stores of the configured backend.
        let executors = Executors()
        executors.start()
        let storage = try Storage(
            components: components, context: StorageContext(config: config, executors: executors, clock: clock, logger: logger))
        // Rules, lists, DLP profiles, keys, policies, upstreams: one value built by the components, swapped by reloads.
        let runtime = RuntimeHolder(try await Runtime.build(config, components: components, storage: storage))
        for warning in runtime.current.warnings { logger.event(.configWarning, level: .warning, "\(warning)") }
        let tls = ListenerTLSHolders(try ListenerTLS.make(config, logger: logger))
        let disk = DiskSpace(path: config.queueDirectory) { runtime.current.config.queue.minFree }
        let readiness = Readiness(queueDirectory: config.queueDirectory)
        readiness.rulesLoaded()

        // 2. The host: what the components run messages with (stages, session checks, targets, modifiers, services).
        let fileIO = executors.files
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let resolver = try UnboundResolver.configured(config)
        let host = try Host.build(
            components,
            environment: HostEnvironment(
                mode: .daemon, runtime: runtime, executors: executors, logger: logger, storage: storage, clock: clock, resolver: resolver,
                eventLoops: eventLoops, queue: store))
        let manager = QueueManager(
            store: store, targets: host.targets, modifiers: host.modifiers,
            schedule: RetrySchedule(intervals: config.delivery.retrySchedule, maxDeliveryTime: config.delivery.maxDeliveryTime),
            destinationConcurrency: config.delivery.destinationConcurrency, io: fileIO, clock: clock, observer: host.queueObserver,
            logger: logger)
        let fileWork: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void = { work in try await fileIO.runIfActive { try work() } }
        let intake = MessageIntake(
            pipeline: host.pipeline, runtime: runtime, store: store, queueManager: manager, observer: host.queueObserver,
            handoff: host.environment.handoff, clock: clock, fileIO: fileWork)
        var submitter = LocalSubmitter(
            store: store, runtime: runtime, hostname: config.hostname, observer: host.queueObserver, clock: clock, fileIO: fileWork, logger: logger)
        await manager.setBouncer(DSNBouncer(submitter: submitter))
        // What components write themselves (reports) is queued like a DSN, and the queue manager told.
        submitter.manager = manager
        host.environment.localMail.connect(submitter)
        let checks = SessionChecks([DiskSpaceCheck(disk: disk)] + host.sessionChecks)

        // 3. Listeners: admin first, so /readyz can say "not yet" while SMTP binds.
        let directory = ListenerDirectory()
        let adminAddress = NIOLockedValueBox("")
        let admin = try await AdminServer.bind(
            host: config.admin.host, port: config.admin.port, group: eventLoops,
            routes: AdminRoutes.make(
                registry: registry, readiness: readiness, store: store, disk: disk, listeners: directory, runtime: runtime,
                hostname: config.hostname, started: started, clock: clock, status: host.status + [MemoryService.status(manager)],
                census: { await manager.census() }, adminAddress: { adminAddress.withLockedValue { $0 } }))
        adminAddress.withLockedValue { $0 = "\(config.admin.host.contains(":") ? "[\(config.admin.host)]" : config.admin.host):\(admin.localPort)" }
        var listeners: [SMTPListener] = []
        do {
            for l in config.listeners {
                var context = ListenerContext(
                    name: l.name, session: Self.sessionConfiguration(config, l, clock: clock), checks: checks, receiver: intake,
                    tls: tls.holder(for: l.name), implicitTLS: l.tls == .implicit, queue: store, fileIO: fileIO,
                    limiter: ConnectionLimiter(maxTotal: l.maxConnections, maxPerIP: l.maxConnectionsPerIP),
                    commandTimeout: .milliseconds(Int64(l.commandTimeout * 1000)),
                    dataTimeout: .milliseconds(Int64(l.dataTimeout * 1000)), logger: logger)
                if l.proxyProtocol { context.proxyFrom = l.proxyFrom }
                context.authenticator = host.authenticator(for: l)
                let listener = try await SMTPListener.bind(host: l.host, port: l.port, context: context, group: eventLoops)
                listeners.append(listener)
                logger.event(
                    .listening, level: .notice, "listening",
                    [.listener: l.name, .address: l.host, .port: "\(listener.localPort)"])
            }
        } catch {
            for l in listeners { await l.close() }
            await admin.close()
            throw DaemonError("cannot listen: \(error)")
        }
        directory.set(listeners)
        try writeRuntimeState(listeners, adminPort: admin.localPort)
        readiness.listenersBound()

        // 4. Run until SIGTERM/SIGINT; SIGHUP reloads. The components' services run after the queue manager.
        let systemd = SystemdNotifier()
        let reload = ReloadService(
            configFile: config.file, components: components, storage: storage, runtime: runtime, tls: tls, logger: logger, systemd: systemd,
            hangups: hangups, requests: host.environment.reloads)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: QueueService(manager: manager, rescans: rescans)), .init(service: MemoryService(manager: manager, clock: clock)),
        ]
        services += host.services.map { .init(service: $0) }
        services += [
            .init(service: AdminService(server: admin)),
            .init(service: reload),
            .init(service: ListenerService(listeners: listeners, grace: shutdownGrace, readiness: readiness, clock: clock, logger: logger)),
        ]
        let serviceGroup = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        await shutdown.attach(serviceGroup)
        logger.event(.ready, level: .notice, "sluice ready", [.address: config.hostname])
        systemd.notify("READY=1\nSTATUS=accepting mail on \(listeners.map { "\($0.name):\($0.localPort)" }.joined(separator: ", "))")
        try await serviceGroup.run()
        systemd.notify("STOPPING=1")
        do { try await eventLoops.shutdownGracefully() } catch {
            logger.event(.error, level: .warning, "the event loops did not stop cleanly", [.error: "\(error)"])
        }
        await executors.shutdown(logger: logger)
        logger.event(.stopped, level: .notice, "sluice stopped")
    }

    static func sessionConfiguration(_ config: SluiceConfiguration, _ l: ListenerSettings, clock: any SluiceClock) -> SMTPServerSession.Configuration {
        let policy = l.policy.flatMap { config.policies[$0] }
        var session = SMTPServerSession.Configuration(
            hostname: config.hostname, maxMessageSize: min(l.maxMessageSize, policy?.maxMessageSize ?? .max),
            maxRecipients: l.maxRecipients, tlsAvailable: l.tls == .starttls, requireTLS: l.requireTLS)
        session.bareLineEndings = l.bareLineEndings
        session.auth = l.auth
        session.authRequiresTLS = l.authRequiresTLS
        session.receivedAuthUser = l.receivedAuthUser
        session.maxReceivedHeaders = l.maxReceivedHeaders
        // The time a message is received (its Received: header, its queue entry) is the one clock's.
        session.now = { clock.now() }
        return session
    }

    /// data_dir/run/listeners.json: the ports actually bound (port 0 picks one)
    /// and the pid, for `sluice status`, `sluice reload`, tests and tools.
    func writeRuntimeState(_ listeners: [SMTPListener], adminPort: Int) throws {
        let dir = config.dataDir + "/run"
        try FileSystem.makeDirectory(dir)
        var object: [String: Int] = [:]
        for l in listeners { object[l.name] = l.localPort }
        let data = try JSONSerialization.data(
            withJSONObject: ["listeners": object, "admin": adminPort, "pid": Int(getpid())], options: [.sortedKeys])
        try FileSystem.writeDurably(Array(data), to: dir + "/listeners.json.tmp")
        try FileSystem.rename(dir + "/listeners.json.tmp", dir + "/listeners.json")
    }
}
