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
import SluiceCredentials
import SluiceDelivery
import SluiceMailAuth
import SluiceArchive
import SluiceDLP
import SluiceDNS
import SluicePipeline
import SluicePolicy
import SluiceQueue
import SluiceRules
import SluiceSMTP
import SluiceServer
import UnixSignals

public struct Daemon {
    public let config: SluiceConfiguration
    public var logger: Logger
    /// How long sessions in flight may run after SIGTERM before they get a 421.
    public var shutdownGrace: Double = 30

    public init(config: SluiceConfiguration, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Installs the Prometheus registry as the swift-metrics backend (once per process).
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    public func run(metrics registry: PrometheusCollectorRegistry) async throws {
        let started = Date()
        // Trap SIGHUP before anything can learn our pid: its default action would end the process.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let rescans = await UnixSignalsSequence(trapping: .sigusr1)
        // 1. Everything that can fail because of the config, before binding.
        let tls = try Self.makeTLSContext(config, logger: logger)
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
        let credentials = try CredentialStore(path: config.credentialsFile)
        // Rules, lists, DLP profiles, keys and identity settings: one value, validated whole, swapped by reloads.
        let limiters = RateLimiters()
        let runtime = RuntimeHolder(try Runtime.build(config, limiters: limiters))
        for warning in runtime.current.warnings { logger.event(.configWarning, level: .warning, "\(warning)") }
        let disk = DiskSpace(path: config.queueDirectory) { runtime.current.config.queue.minFree }
        let identity = SenderIdentityCheck(store: credentials) { runtime.current.identity }
        let readiness = Readiness(queueDirectory: config.queueDirectory)
        readiness.rulesLoaded()

        // 2. The pipeline.
        // Blocking work by kind, each on its own pool (Executors).
        let executors = Executors()
        executors.start()
        let fileIO = executors.files
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let resolver = try Runtime.resolver(config)
        let deliverer = try SMTPDeliverer(heloName: config.hostname, group: group, io: fileIO)
        let relay = RelayTarget(pools: { runtime.current.upstreamPools }, deliverer: deliverer, logger: logger)
        let send = SendTarget(
            resolver: resolver, deliverer: deliverer, port: config.delivery.sendPort,
            tls: config.delivery.sendTLS, hostname: config.hostname,
            destinationConcurrency: config.delivery.destinationConcurrency, logger: logger)
        // DKIM signing is the last modifier: it signs the message as it leaves, for the domains the signing
        // policy authorised, with the keys of the current runtime.
        let dkim = DKIMSignModifier(keyring: { runtime.current.keyring }, io: executors.cpu, logger: logger)
        var targets: [String: any DeliveryTarget] = ["store": StoreTarget(io: fileIO), "relay": relay, "send": send, "bounce": BounceTarget()]
        let archiveKeys = try config.archiveKeyFile.map { try ArchiveKeyRing.load(file: $0) }
        let archive = config.archives.isEmpty ? nil : try SQLiteArchiveStore(path: config.archiveFile, keys: archiveKeys)
        if let archive { targets["archive"] = ArchiveTarget(
                store: archive, archives: Set(config.archives.keys), io: executors.database, cpu: executors.cpu) }
        let manager = QueueManager(
            store: store,
            targets: targets,
            modifiers: [AuthResultsScrubber(authservID: config.hostname, io: fileIO), SubjectTagModifier(io: fileIO), dkim],
            schedule: RetrySchedule(intervals: config.delivery.retrySchedule, maxDeliveryTime: config.delivery.maxDeliveryTime),
            io: fileIO, logger: logger)
        let verifies = config.listeners.contains { !$0.verify.isEmpty }
        let verifier = verifies ? try MessageVerifier(hostname: config.hostname, resolver: resolver, io: executors.lookups) : nil
        let fileWork: @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void = { work in try await fileIO.runIfActive { try work() } }
        let intake = MessageIntake(
            pipeline: .standard(identity: identity, verifier: verifier, cpu: executors.cpu), runtime: runtime, store: store,
            queueManager: manager, fileIO: fileWork)
        await manager.setBouncer(
            DSNBouncer(store: store, runtime: runtime, hostname: config.hostname, fileIO: fileWork, logger: logger))
        let tlsHolder = tls.map(TLSContextHolder.init)

        // 3. Listeners: admin first, so /readyz can say "not yet" while SMTP binds.
        let directory = ListenerDirectory()
        let adminAddress = NIOLockedValueBox("")
        let admin = try await AdminServer.bind(
            host: config.admin.host, port: config.admin.port, group: group,
            routes: AdminRoutes.make(
                registry: registry, readiness: readiness, store: store, disk: disk, listeners: directory, runtime: runtime,
                hostname: config.hostname, started: started, relay: relay, adminAddress: { adminAddress.withLockedValue { $0 } }))
        adminAddress.withLockedValue { $0 = "\(config.admin.host.contains(":") ? "[\(config.admin.host)]" : config.admin.host):\(admin.localPort)" }
        var listeners: [SMTPListener] = []
        do {
            for l in config.listeners {
                let policy = ListenerAcceptCheck(listener: l.name, runtime: runtime, identity: identity, disk: disk)
                var context = ListenerContext(
                    name: l.name, session: Self.sessionConfiguration(config, l), checks: policy, receiver: intake,
                    tls: l.tls == .none ? nil : tlsHolder, implicitTLS: l.tls == .implicit, queue: store, fileIO: fileIO,
                    limiter: ConnectionLimiter(maxTotal: l.maxConnections, maxPerIP: l.maxConnectionsPerIP),
                    commandTimeout: .milliseconds(Int64(l.commandTimeout * 1000)),
                    dataTimeout: .milliseconds(Int64(l.dataTimeout * 1000)), logger: logger)
                if l.proxyProtocol { context.proxyFrom = l.proxyFrom }
                if l.auth != .none {
                    let throttle = AuthThrottle(
                        policy: AuthThrottlePolicy(maxFailures: l.authMaxFailures, window: 60, baseDelay: l.authFailureDelay))
                    context.authenticator = CredentialAuthenticator(store: credentials, throttle: throttle)
                }
                let listener = try await SMTPListener.bind(host: l.host, port: l.port, context: context, group: group)
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

        // 4. Run until SIGTERM/SIGINT; SIGHUP reloads.
        let systemd = SystemdNotifier()
        let reload = ReloadService(
            configFile: config.file, runtime: runtime, tls: tlsHolder, limiters: limiters, logger: logger, systemd: systemd, hangups: hangups)
        let services = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: QueueService(manager: manager, rescans: rescans)),
                    .init(service: UpstreamProbeService(relay: relay)),
                    .init(service: ArchivePurgeService(store: archive, archives: config.archives, io: executors.database, logger: logger)),
                    .init(service: AdminService(server: admin)),
                    .init(service: reload),
                    .init(service: ListenerService(listeners: listeners, grace: shutdownGrace, readiness: readiness, logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.event(.ready, level: .notice, "sluice ready", [.address: config.hostname])
        systemd.notify("READY=1\nSTATUS=accepting mail on \(listeners.map { "\($0.name):\($0.localPort)" }.joined(separator: ", "))")
        try await services.run()
        systemd.notify("STOPPING=1")
        try? await group.shutdownGracefully()
        await executors.shutdown(logger: logger)
        logger.event(.stopped, level: .notice, "sluice stopped")
    }

    static func makeTLSContext(_ config: SluiceConfiguration, logger: Logger) throws -> NIOSSLContext? {
        guard config.listeners.contains(where: { $0.tls != .none }) else { return nil }
        if try TLSMaterial.ensure(certificate: config.tls.certificate, key: config.tls.key, hostname: config.hostname) {
            logger.event(.tlsCertificate, level: .notice, "created a self-signed TLS certificate", [.file: config.tls.certificate])
        }
        return try TLSMaterial.serverContext(certificate: config.tls.certificate, key: config.tls.key)
    }

    static func sessionConfiguration(_ config: SluiceConfiguration, _ l: ListenerSettings) -> SMTPServerSession.Configuration {
        let policy = l.policy.flatMap { config.policies[$0] }
        var session = SMTPServerSession.Configuration(
            hostname: config.hostname, maxMessageSize: min(l.maxMessageSize, policy?.maxMessageSize ?? .max),
            maxRecipients: l.maxRecipients, tlsAvailable: l.tls == .starttls, requireTLS: l.requireTLS)
        session.bareLineEndings = l.bareLineEndings
        session.auth = l.auth
        session.authRequiresTLS = l.authRequiresTLS
        session.receivedAuthUser = l.receivedAuthUser
        session.maxReceivedHeaders = l.maxReceivedHeaders
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
