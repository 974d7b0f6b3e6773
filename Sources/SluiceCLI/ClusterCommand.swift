// `sluice cluster status`: the nodes sharing the store (storage.backend:
// postgres), as each reported itself on its heartbeat: version, digests of
// configuration and rules, DKIM keys in force, queue depth, last seen; the
// live ones' differences are drift. `sluice check --cluster` fails on drift.

import ArgumentParser
import Foundation
import SluiceCore
import SluicePipeline

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "The nodes sharing the store.", subcommands: [Status.self])

    struct View {
        let live: [NodeReport]
        let down: [NodeReport]
        var drift: [String] { NodeReport.drift(live) }
    }

    /// The nodes, live (seen within three heartbeats) and down; nil with the embedded backend.
    static func view(_ storage: Storage) async throws -> View? {
        guard storage.backend != embeddedBackend else { return nil }
        let registry: any ClusterRegistry
        do { registry = try storage.store((any ClusterRegistry).self) } catch { throw UserError("cluster: \(error)") }
        let nodes: [NodeReport]
        do { nodes = try await registry.nodes() } catch { throw UserError("cluster: \(error)") }
        let cutoff = WallClock().now().addingTimeInterval(-3 * registry.heartbeat)
        return View(live: nodes.filter { $0.lastSeen >= cutoff }, down: nodes.filter { $0.lastSeen < cutoff })
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes sharing the store and flag drift between them.")
        @OptionGroup var options: ConfigOption
        @Flag(name: .long, help: "One JSON document.") var json = false

        func run() async throws {
            let config = try options.load()
            guard let view = try await ClusterCommand.view(try options.storage(config)) else {
                print("storage.backend \(embeddedBackend): this node shares nothing; there is no cluster to show")
                return
            }
            if json {
                func object(_ n: NodeReport, _ state: String) -> [String: Any] {
                    [
                        "node": n.node, "state": state, "version": n.version, "config_digest": n.configDigest, "rules_digest": n.rulesDigest,
                        "dkim": n.dkim, "queue_depth": n.queueDepth, "started_at": QueueCommand.iso(n.startedAt), "last_seen": QueueCommand.iso(n.lastSeen),
                    ]
                }
                let nodes = view.live.map { object($0, "up") } + view.down.map { object($0, "down") }
                print(try QueueCommand.jsonText(["nodes": nodes, "drift": view.drift]))
                return
            }
            let table = TextTable(headers: ["NODE", "STATE", "VERSION", "CONFIG", "RULES", "QUEUE", "LAST SEEN", "DKIM"])
            for (n, state) in view.live.map({ ($0, "up") }) + view.down.map({ ($0, "down") }) {
                table.add([
                    n.node, state, n.version, n.configDigest, n.rulesDigest, "\(n.queueDepth)", QueueCommand.iso(n.lastSeen),
                    n.dkim.isEmpty ? "-" : n.dkim.joined(separator: "; "),
                ])
            }
            print(table.render(), terminator: "")
            let drift = view.drift
            print(drift.isEmpty ? "-- \(view.live.count) node(s) up, no drift" : drift.map { "drift: \($0)" }.joined(separator: "\n"))
        }
    }
}
