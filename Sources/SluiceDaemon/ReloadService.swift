// ReloadService: SIGHUP re-reads the configuration. What can change safely
// while running changes for new connections and checks: traffic policies,
// trusted networks, local domains, and the TLS certificate and key. Listener
// addresses and storage paths need a restart, and say so. A file that does not
// load is refused with file:line:column and the running configuration stays.
// systemd hears RELOADING=1 (with MONOTONIC_USEC) and then READY=1.

import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SluiceConfig
import SluiceDLP
import SluiceMailAuth
import SluiceCore
import SluiceCredentials
import SluiceRules
import SluiceServer
import UnixSignals

final class ReloadService: Service {
    let configFile: String
    private let current: NIOLockedValueBox<SluiceConfiguration>
    let policies: [String: ReloadableAcceptPolicy]
    let tls: TLSContextHolder?
    let rules: RuleBook
    let limiters: RateLimiters
    let logger: Logger
    let systemd: SystemdNotifier
    let hangups: UnixSignalsSequence
    /// Reloads swap its keys.
    let dkim: DKIMSignModifier
    let dlp: DLPCheck

    /// `hangups` must be created before the daemon says it is ready, so that an
    /// early SIGHUP reloads instead of killing the process (its default action).
    init(
        configFile: String, current: SluiceConfiguration, policies: [String: ReloadableAcceptPolicy], tls: TLSContextHolder?,
        rules: RuleBook, limiters: RateLimiters, dkim: DKIMSignModifier, dlp: DLPCheck, logger: Logger, systemd: SystemdNotifier,
        hangups: UnixSignalsSequence
    ) {
        self.dkim = dkim
        self.dlp = dlp
        self.rules = rules
        self.limiters = limiters
        self.hangups = hangups
        self.configFile = configFile
        self.current = NIOLockedValueBox(current)
        self.policies = policies
        self.tls = tls
        self.logger = logger
        self.systemd = systemd
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in hangups.cancelOnGracefulShutdown() {
                reload()
            }
        } onGracefulShutdown: {}
    }

    func reload() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
        defer { systemd.notify("READY=1") }
        let new: SluiceConfiguration
        let newRules: [String: RuleSet]
        let newKeys: DKIMKeyring
        let newDLP: DLPScanner
        do {
            new = try SluiceConfiguration.load(file: configFile)
            newRules = try Daemon.loadRules(new)
            newKeys = try Daemon.dkimKeyring(new)
            newDLP = try DLPScanner(book: try DLPBook.load(rulesDirectory: new.rulesDir))
        } catch {
            logger.event(.reloadFailed, level: .error, "reload refused; the running configuration stays", [.error: "\(error)"])
            systemd.notify("STATUS=reload refused: \(error)")
            return
        }
        let old = current.withLockedValue { $0 }
        var needsRestart: [String] = []
        if new.listeners.map({ "\($0.name) \($0.host):\($0.port) \($0.tls) \($0.auth) \($0.authRequiresTLS) \($0.rules ?? "") \($0.verify.sorted())" }) != old.listeners.map({ "\($0.name) \($0.host):\($0.port) \($0.tls) \($0.auth) \($0.authRequiresTLS) \($0.rules ?? "") \($0.verify.sorted())" }) {
            needsRestart.append("listeners")
        }
        if new.dataDir != old.dataDir { needsRestart.append("data_dir") }
        if new.delivery.storeDirectory != old.delivery.storeDirectory { needsRestart.append("delivery.store") }
        if new.admin.host != old.admin.host || new.admin.port != old.admin.port { needsRestart.append("admin") }
        if new.hostname != old.hostname { needsRestart.append("hostname") }
        if new.dns != old.dns { needsRestart.append("dns") }
        if Self.describe(new.upstreams) != Self.describe(old.upstreams) { needsRestart.append("upstreams") }
        if "\(new.delivery)" != "\(old.delivery)" { needsRestart.append("delivery") }

        if let tls {
            do {
                if let context = try Daemon.makeTLSContext(new, logger: logger) { tls.replace(context) }
            } catch {
                logger.event(.reloadFailed, level: .error, "TLS certificate not reloaded; the old one stays", [.error: "\(error)"])
            }
        }
        for l in new.listeners {
            policies[l.name]?.replace(Daemon.acceptPolicy(new, l, limiters: limiters))
        }
        policies.values.first?.identity.replace(Daemon.identitySettings(new))
        // Rule sets are swapped whole, for messages whose DATA ends from now on.
        rules.replace(newRules)
        dkim.replace(newKeys)
        dlp.replace(newDLP, listeners: Daemon.inspected(new, scanner: newDLP, rules: rules))
        current.withLockedValue { $0 = new }
        var fields: [LogKey: String] = [.file: configFile]
        if !needsRestart.isEmpty { fields[.reason] = "changes to \(needsRestart.joined(separator: ", ")) take effect after a restart" }
        logger.event(.reload, level: .notice, "configuration reloaded", fields)
        systemd.notify("STATUS=configuration reloaded")
    }

    static func describe(_ upstreams: [String: UpstreamSettings]) -> String {
        upstreams.sorted { $0.key < $1.key }.map { name, u in
            "\(name) \(u.hosts.map { "\($0.host):\($0.port)" }) \(u.tls) \(u.backup ?? "") \(u.username ?? "") \(u.passwordFile ?? "") \(u.maxConnections) \(u.probeInterval)"
        }.joined(separator: "; ")
    }
}
