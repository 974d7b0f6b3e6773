// Daemon: builds the pipeline from a configuration and runs it as a
// ServiceGroup: queue manager first, listeners last (they stop first).
// Config and TLS problems are reported before any port is bound (R-OPS-4).

import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SluiceConfig
import SluiceCore
import SluiceDelivery
import SluicePolicy
import SluiceQueue
import SluiceSMTP
import SluiceServer

public struct Daemon {
    public let config: SluiceConfiguration
    public var logger: Logger
    /// How long sessions in flight may run after SIGTERM before the process exits.
    public var shutdownGrace: Double = 30

    public init(config: SluiceConfiguration, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        // 1. Everything that can fail because of the config, before binding.
        let tlsNeeded = config.listeners.contains { $0.tls != .none }
        var sslContext: NIOSSLContext?
        if tlsNeeded {
            if try TLSMaterial.ensure(certificate: config.tls.certificate, key: config.tls.key, hostname: config.hostname) {
                logger.notice("created a self-signed TLS certificate", metadata: ["path": "\(config.tls.certificate)"])
            }
            sslContext = try TLSMaterial.serverContext(certificate: config.tls.certificate, key: config.tls.key)
        }
        let store = try QueueStore(directory: config.queueDirectory)
        for removed in try store.recover() {
            logger.notice("removed unfinished queue file", metadata: ["event": "recover", "file": "\(removed)"])
        }
        try FileSystem.makeDirectory(config.delivery.storeDirectory)

        // 2. The pipeline.
        // Blocking file work (spool writes, fsync, renames) runs on these threads; fsyncs of
        // concurrent messages overlap and share directory syncs (group commit).
        let fileIO = NIOThreadPool(numberOfThreads: 16)
        fileIO.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let manager = QueueManager(
            store: store, target: StoreTarget(io: fileIO),
            schedule: RetrySchedule(intervals: config.delivery.retrySchedule, maxDeliveryTime: config.delivery.maxDeliveryTime),
            io: fileIO, logger: logger)
        let pipeline = MessagePipeline(
            checks: [], planner: StoreEverythingPlanner(directory: config.delivery.storeDirectory), store: store,
            queueManager: manager,
            fileIO: { work in try await fileIO.runIfActive { try work() } })
        let relay = RelayControl(localDomains: config.localDomains, trustedNetworks: config.trustedNetworks)

        // 3. Listeners.
        var listeners: [SMTPListener] = []
        do {
            for l in config.listeners {
                let policy = l.policy.flatMap { config.policies[$0] }
                var session = SMTPServerSession.Configuration(
                    hostname: config.hostname, maxMessageSize: min(l.maxMessageSize, policy?.maxMessageSize ?? .max),
                    maxRecipients: l.maxRecipients, tlsAvailable: l.tls == .starttls, requireTLS: l.requireTLS)
                session.bareLineEndings = l.bareLineEndings
                session.maxReceivedHeaders = l.maxReceivedHeaders
                let context = ListenerContext(
                    name: l.name, session: session, checks: AcceptPolicy(relay: relay, policy: policy), receiver: pipeline,
                    tls: l.tls == .none ? nil : sslContext, implicitTLS: l.tls == .implicit, queue: store, fileIO: fileIO,
                    limiter: ConnectionLimiter(maxTotal: l.maxConnections, maxPerIP: l.maxConnectionsPerIP),
                    commandTimeout: .milliseconds(Int64(l.commandTimeout * 1000)),
                    dataTimeout: .milliseconds(Int64(l.dataTimeout * 1000)), logger: logger)
                let listener = try await SMTPListener.bind(host: l.host, port: l.port, context: context, group: group)
                listeners.append(listener)
                logger.notice(
                    "listening",
                    metadata: [
                        "event": "listening", "listener": "\(l.name)", "address": "\(l.host)",
                        "port": "\(listener.localPort)", "tls": "\(l.tls.rawValue)",
                    ])
            }
        } catch {
            for l in listeners { await l.close() }
            throw DaemonError("cannot listen: \(error)")
        }
        try writeRuntimeState(listeners)

        let queueService = QueueService(manager: manager)
        let listenerService = ListenerService(listeners: listeners, grace: shutdownGrace, logger: logger)
        let group2 = ServiceGroup(
            configuration: .init(
                services: [.init(service: queueService), .init(service: listenerService)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let systemd = SystemdNotifier()
        logger.notice("sluice ready", metadata: ["event": "ready", "hostname": "\(config.hostname)"])
        systemd.notify("READY=1\nSTATUS=accepting mail on \(listeners.map { "\($0.name):\($0.localPort)" }.joined(separator: ", "))")
        try await group2.run()
        systemd.notify("STOPPING=1")
        try? await group.shutdownGracefully()
        try? await fileIO.shutdownGracefully()
        logger.notice("sluice stopped", metadata: ["event": "stopped"])
    }

    /// data_dir/run/listeners.json: the ports actually bound (port 0 picks one),
    /// for tests and tools.
    func writeRuntimeState(_ listeners: [SMTPListener]) throws {
        let dir = config.dataDir + "/run"
        try FileSystem.makeDirectory(dir)
        var object: [String: Int] = [:]
        for l in listeners { object[l.name] = l.localPort }
        let data = try JSONSerialization.data(withJSONObject: ["listeners": object, "pid": Int(getpid())], options: [.sortedKeys])
        try FileSystem.writeDurably(Array(data), to: dir + "/listeners.json.tmp")
        try FileSystem.rename(dir + "/listeners.json.tmp", dir + "/listeners.json")
    }
}

/// Runs the queue manager until graceful shutdown.
struct QueueService: Service {
    let manager: QueueManager

    func run() async throws {
        await withGracefulShutdownHandler {
            await manager.run()
        } onGracefulShutdown: {
            Task { await manager.stop() }
        }
    }
}

/// Holds the listeners open until graceful shutdown, then stops accepting and
/// waits (within a bound) for sessions in flight to end.
struct ListenerService: Service {
    let listeners: [SMTPListener]
    let grace: Double
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        SystemdNotifier().notify("STOPPING=1\nSTATUS=finishing sessions in flight")
        logger.notice("stopping: no new connections", metadata: ["event": "stopping"])
        for l in listeners { await l.close() }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline && listeners.contains(where: { $0.limiter.current > 0 }) {
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }
}
