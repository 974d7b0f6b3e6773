// PostgresNodeService: what a node does for the others every `refresh` (on
// the injected clock): reports itself (ClusterRegistry: version, digests, DKIM
// fingerprints, queue depth), reloads when the DKIM keys or states in the
// store moved (a `sluice dkim activate` on any node), and applies the
// quarantine requests other nodes left for the messages it holds. The
// database down changes nothing here but the next round.

import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle
import SluiceAdmin
import SluiceConfig
import SluiceCore
import SluiceMailAuth
import SluicePipeline
import SluiceQuarantine
import SluiceQueue

struct PostgresNodeService: Service {
    let registry: PostgresClusterRegistry
    let keys: PostgresDKIMKeyStore
    let quarantine: QuarantineAdmin
    let depth: QueueDepthCounter
    let environment: HostEnvironment
    let refresh: Double
    let logger: Logger

    func run() async throws {
        let clock = environment.clock
        let started = clock.now()
        await depth.count(environment)
        await cancelWhenGracefulShutdown {
            var lastSerial: Int64?
            var digests = Digests()
            while !Task.isCancelled {
                let runtime = environment.runtime.current
                do {
                    let serial = try await keys.serial()
                    if let last = lastSerial, serial != last {
                        environment.reloads.request("dkim keys or states changed in the shared store")
                    }
                    lastSerial = serial
                } catch {
                    // The database is unavailable (the stores log it once a minute): the next round looks again.
                    logger.debug("cannot read the dkim serial", metadata: ["error": "\(error)"])
                }
                digests.update(runtime.config)
                let report = NodeReport(
                    node: runtime.config.hostname, version: SluiceVersion.description, configDigest: digests.config, rulesDigest: digests.rules,
                    dkim: NodeDigests.dkim(runtime.part([DKIMKeyRecord].self) ?? []), queueDepth: depth.value, startedAt: started, lastSeen: clock.now())
                Gauge(label: "sluice_node_info", dimensions: [("config_digest", report.configDigest), ("rules_digest", report.rulesDigest)]).record(1)
                do { try await registry.report(report) } catch {
                    logger.debug("cannot report to the shared store", metadata: ["error": "\(error)"])
                }
                await applyRequests()
                await clock.sleep(for: refresh)
            }
        }
    }

    func applyRequests() async {
        let done: [(QuarantineRequest, String)]
        do { done = try await quarantine.applyRequests() } catch {
            // Requests stay in the store until taken: the next round takes them.
            logger.debug("cannot read quarantine requests", metadata: ["error": "\(error)"])
            return
        }
        for (request, outcome) in done {
            logger.event(
                request.action == .release ? .released : .removed, level: .notice, "quarantine \(request.action.rawValue) asked by \(request.by)",
                [.queueID: request.queueID.rawValue, .trigger: "quarantine request from \(request.by)", .reason: outcome])
        }
    }

    /// The digests, computed again only when the files change.
    struct Digests {
        var config = ""
        var rules = ""
        var configStamp: [Int] = []
        var rulesListing: [String: [Int]] = [:]
        var rulesDir = ""

        mutating func update(_ c: SluiceConfiguration) {
            // Only decides whether to hash the file again; a file that cannot be stat'ed is hashed as "unreadable".
            let attributes = try? FileManager.default.attributesOfItem(atPath: c.file)
            let stamp = [(attributes?[.size] as? Int) ?? 0, Int(((attributes?[.modificationDate] as? Date) ?? .distantPast).timeIntervalSince1970 * 1000)]
            if stamp != configStamp || config.isEmpty {
                config = NodeDigests.config(file: c.file)
                configStamp = stamp
            }
            let listing = NodeDigests.listing(dir: c.rulesDir)
            if listing != rulesListing || rulesDir != c.rulesDir || rules.isEmpty {
                rules = NodeDigests.rules(dir: c.rulesDir, files: Array(listing.keys))
                rulesListing = listing
                rulesDir = c.rulesDir
            }
        }
    }
}

/// This node's queue depth for its report: counted once from the queue directory, then followed as messages come and go.
final class QueueDepthCounter: QueueObserver {
    private let box = NIOLockedValueBox(0)

    var value: Int { box.withLockedValue { max(0, $0) } }

    func count(_ env: HostEnvironment) async {
        guard let queue = env.queue else { return }
        do {
            let n = try await env.executors.files.runIfActive { try queue.ids().count }
            box.withLockedValue { $0 += n }
        } catch {
            env.logger.warning("cannot count the queue for the cluster report; it counts from zero", metadata: ["error": "\(error)"])
        }
    }

    func queued(_ entry: QueueEntry) async { box.withLockedValue { $0 += 1 } }

    func changed(_ id: QueueID, to entry: QueueEntry?) async {
        if entry == nil { box.withLockedValue { $0 -= 1 } }
    }
}

/// How this node's own daemon hears of a change its node service made to the queue: a notice and SIGUSR1, as from
/// the CLI.
struct SelfNotifier: QueueChangeNotifier {
    let store: QueueStore

    func queueChanged(_ ids: [QueueID]) async {
        guard !ids.isEmpty else { return }
        // Without a notice, the signal alone makes the queue manager read the whole queue: slower, as complete.
        do { try store.postNotice(ids) } catch {}
        kill(getpid(), SIGUSR1)
    }
}
