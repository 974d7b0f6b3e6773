// ReloadService: SIGHUP re-reads the configuration. Everything is read and
// validated first — the runtime (rules, lists, DLP profiles, keys, identity
// settings, traffic policies, upstream pools) and the TLS certificate — and
// only when all of it is good is it swapped, as one value: a failed reload
// changes nothing and logs the file:line:column error (R-CORE-4). The new
// runtime applies to the next check and the next message; listener addresses
// and storage paths need a restart, and the log says so.
// systemd hears RELOADING=1 (with MONOTONIC_USEC) and then READY=1.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import ServiceLifecycle
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceQueue
import SluiceServer
import UnixSignals

final class ReloadService: Service {
    let configFile: String
    let components: [any Component]
    /// The stores opened at the start (a change of storage.backend needs a restart).
    let storage: Storage
    let runtime: RuntimeHolder
    let tls: ListenerTLSHolders
    let logger: Logger
    let systemd: SystemdNotifier
    let hangups: UnixSignalsSequence
    /// What components ask for (ReloadRequests): served like a SIGHUP, one reload at a time.
    let requests: ReloadRequests
    private let sequence = NIOLockedValueBox(0)

    /// `hangups` must be created before the daemon says it is ready, so that an
    /// early SIGHUP reloads instead of killing the process (its default action).
    init(
        configFile: String, components: [any Component], storage: Storage, runtime: RuntimeHolder, tls: ListenerTLSHolders, logger: Logger,
        systemd: SystemdNotifier, hangups: UnixSignalsSequence, requests: ReloadRequests
    ) {
        self.requests = requests
        self.configFile = configFile
        self.components = components
        self.storage = storage
        self.runtime = runtime
        self.tls = tls
        self.logger = logger
        self.systemd = systemd
        self.hangups = hangups
    }

    func run() async throws {
        // SIGHUPs and components' requests in one sequence, so that reloads never overlap.
        let (merged, feed) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.hangups.cancelOnGracefulShutdown() { feed.yield("SIGHUP") }
                feed.finish()
            }
            group.addTask {
                for await reason in self.requests.requests.cancelOnGracefulShutdown() { feed.yield(reason) }
            }
            for await reason in merged { await reload(reason: reason) }
            group.cancelAll()
        }
    }

    func reload(reason: String = "SIGHUP") async {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
        defer { systemd.notify("READY=1") }
        let new: Runtime
        let contexts: ListenerTLS
        do {
            new = try await Runtime.load(configFile: configFile, components: components, storage: storage)
            contexts = try ListenerTLS.make(new.config, logger: logger)
        } catch {
            logger.event(.reloadFailed, level: .error, "reload refused; the running configuration stays", [.error: "\(error)"])
            systemd.notify("STATUS=reload refused: \(error)")
            publish(["ok": false, "error": "\(error)"])
            return
        }
        let needsRestart = Self.restartOnly(old: runtime.current.config, new: new.config)
        // Everything is valid: the new runtime (rules, lists, DLP, keys, policies, upstreams) in one swap.
        tls.replace(with: contexts)
        runtime.replace(new)
        for warning in new.warnings { logger.event(.configWarning, level: .warning, "\(warning)") }
        var fields: [LogKey: String] = [.file: configFile, .trigger: reason]
        if !needsRestart.isEmpty { fields[.reason] = "changes to \(needsRestart.joined(separator: ", ")) take effect after a restart" }
        logger.event(.reload, level: .notice, "configuration reloaded", fields)
        systemd.notify("STATUS=configuration reloaded")
        publish(["ok": true, "restart_needed": needsRestart])
    }

    /// data_dir/run/reload.json: the outcome of the latest reload with a sequence number, so that
    /// `sluice reload` can wait for the answer to its SIGHUP and exit 1 when it was refused.
    private func publish(_ outcome: [String: Any]) {
        var object = outcome
        object["sequence"] = sequence.withLockedValue { n -> Int in
            n += 1
            return n
        }
        let dir = runtime.current.config.dataDir + "/run"
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            try FileSystem.writeDurably(Array(data), to: dir + "/reload.json.tmp")
            try FileSystem.rename(dir + "/reload.json.tmp", dir + "/reload.json")
        } catch {
            logger.event(.error, level: .error, "cannot write the reload outcome", [.file: dir + "/reload.json", .error: "\(error)"])
        }
    }

    /// The settings a reload cannot change in a running daemon.
    static func restartOnly(old: SluiceConfiguration, new: SluiceConfiguration) -> [String] {
        func listeners(_ c: SluiceConfiguration) -> [String] {
            c.listeners.map { "\($0.name) \($0.host):\($0.port) \($0.tls) \($0.auth) \($0.authRequiresTLS) \($0.verify.sorted())" }
        }
        var out: [String] = []
        if listeners(new) != listeners(old) { out.append("listeners") }
        if new.dataDir != old.dataDir { out.append("data_dir") }
        if new.delivery.storeDirectory != old.delivery.storeDirectory { out.append("delivery.store") }
        if new.admin.host != old.admin.host || new.admin.port != old.admin.port { out.append("admin") }
        if new.hostname != old.hostname { out.append("hostname") }
        if new.dns != old.dns { out.append("dns") }
        if new.storage != old.storage { out.append("storage") }
        // delivery.tls_policy is read at each decision; the rest of delivery: at the start.
        var unchangedPolicy = new.delivery
        unchangedPolicy.tlsPolicy = old.delivery.tlsPolicy
        if "\(unchangedPolicy)" != "\(old.delivery)" { out.append("delivery") }
        return out
    }
}
