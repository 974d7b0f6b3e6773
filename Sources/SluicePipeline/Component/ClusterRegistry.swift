// ClusterRegistry: the contract of the nodes sharing a store (R-DELIVER-7):
// each running node reports itself on a heartbeat (its version, digests of
// its configuration and rules, its DKIM keys' fingerprints, its queue depth),
// and `sluice cluster status` and `sluice check --cluster` read the reports
// and flag drift. The embedded backend has none: one node shares nothing.

import Foundation

public struct NodeReport: Sendable, Equatable {
    public var node: String
    public var version: String
    /// SHA-256 (hex, 16 digits) of the configuration file without its `hostname:` line (each node has its own name).
    public var configDigest: String
    /// SHA-256 (hex, 16 digits) of every file under rules_dir, by path.
    public var rulesDigest: String
    /// "s1._domainkey.example.test active 3f2a…" per key in force, sorted.
    public var dkim: [String]
    public var queueDepth: Int
    public var startedAt: Date
    public var lastSeen: Date

    public init(
        node: String, version: String, configDigest: String, rulesDigest: String, dkim: [String], queueDepth: Int, startedAt: Date, lastSeen: Date
    ) {
        self.node = node
        self.version = version
        self.configDigest = configDigest
        self.rulesDigest = rulesDigest
        self.dkim = dkim
        self.queueDepth = queueDepth
        self.startedAt = startedAt
        self.lastSeen = lastSeen
    }

    /// What these nodes disagree on (the caller passes the live ones): one line per difference.
    public static func drift(_ nodes: [NodeReport]) -> [String] {
        var out: [String] = []
        for (what, value) in [
            ("version", { (n: NodeReport) in n.version }), ("configuration", { $0.configDigest }), ("rules", { $0.rulesDigest }),
            ("dkim keys", { $0.dkim.joined(separator: "; ") }),
        ] as [(String, (NodeReport) -> String)] {
            let groups = Dictionary(grouping: nodes, by: value)
            guard groups.count > 1 else { continue }
            let parts = groups.sorted { $0.key < $1.key }.map { key, members in
                "\(members.map(\.node).sorted().joined(separator: ", ")): \(key.isEmpty ? "none" : key)"
            }
            out.append("\(what) differs: " + parts.joined(separator: " | "))
        }
        return out
    }
}

public protocol ClusterRegistry: Sendable {
    /// Records this node's report (replacing its last one).
    func report(_ report: NodeReport) async throws
    /// Every node that ever reported, by name.
    func nodes() async throws -> [NodeReport]
    /// How often a running node reports: a node not seen for three of these is down.
    var heartbeat: Double { get }
}
