// `sluice check`: validate the configuration without starting anything (like nginx -t).

import ArgumentParser
import Foundation
import SluiceConfig
import SluiceCore
import SluiceDNS
import SluicePipeline
import SluiceMailAuth

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration; exit 1 on error.")

    @OptionGroup var options: ConfigOption
    @Flag(help: "Also look up each DKIM key's TXT record (through dns:) and compare it with the key file.")
    var dns = false
    @Flag(help: "Also compare the nodes sharing the store (storage.backend: postgres): exit 1 when they drift apart.")
    var cluster = false

    func run() async throws {
        let config = try options.load()
        // The daemon's own runtime builder: rules, lists, DLP profiles and every active key, validated together.
        let storage = try options.storage(config)
        let runtime = try await options.runtime(config, storage: storage)
        for warning in runtime.warnings { FileHandle.standardError.write(Data("sluice: warning: \(warning)\n".utf8)) }
        for (name, set) in runtime.ruleSets.sorted(by: { $0.key < $1.key }) {
            print("\(set.file): ok (rule set '\(name)', \(set.rules.count) rule(s))")
        }
        // What the components do with this configuration ("dkim: ok (...)", "listener mx: verifies ...").
        for note in runtime.notes { print(note) }
        if let line = try await StorageCommand.check(storage) { print(line) }
        // The resolver the daemon would start with (an unreadable resolv.conf is an error here, not a hang there).
        let resolver: any DNSResolver
        do { resolver = try UnboundResolver.configured(config) } catch { throw UserError("\(error)") }
        if dns { try await checkPublishedKeys(try await DKIMCommand.admin(options, config: config).store.keys(configured: config.dkim), resolver: resolver) }
        print("\(options.path): ok (\(config.listeners.count) listener(s): \(config.listeners.map { "\($0.name) \($0.host):\($0.port)" }.joined(separator: ", ")))")
        if cluster {
            guard let view = try await ClusterCommand.view(storage) else {
                print("cluster: storage.backend \(embeddedBackend) shares nothing; one node, no drift")
                return
            }
            for n in view.down { FileHandle.standardError.write(Data("sluice: warning: cluster: \(n.node) not seen since \(QueueCommand.iso(n.lastSeen))\n".utf8)) }
            let drift = view.drift
            guard drift.isEmpty else { throw UserError("cluster: " + drift.joined(separator: "; ")) }
            print("cluster: \(view.live.count) node(s) up (\(view.live.map(\.node).joined(separator: ", "))), no drift")
        }
    }

    /// Active keys must be published with the same public key; publish-only ones should be (a warning).
    func checkPublishedKeys(_ keys: [DKIMKeyRecord], resolver: any DNSResolver) async throws {
        var problems: [String] = []
        for k in keys where k.state != .retired {
            let name = k.name
            guard let pem = k.privateKeyPEM else {
                problems.append("\(name): \(k.problem ?? "no private key")")
                continue
            }
            let expected: String
            do {
                expected = try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: DKIMAlgorithm(k.algorithm))
            } catch {
                problems.append("\(name): the key \(k.storedAt) is not a usable \(k.algorithm.rawValue) key: \(error)")
                continue
            }
            let published: [String]
            do {
                published = try await resolver.lookup(name, .txt).texts
            } catch {
                problems.append("\(name): DNS lookup failed: \(error)")
                continue
            }
            let want = DKIMTags.parse(expected)["p"]
            let verdict: String?
            if published.isEmpty {
                verdict = "not published (publish: \(expected))"
            } else if !published.contains(where: { DKIMTags.parse($0)["p"] == want }) {
                verdict = "DNS publishes a different key than \(k.storedAt)"
            } else {
                verdict = nil
            }
            if let verdict {
                if k.state == .active {
                    problems.append("\(name): \(verdict)")
                } else {
                    FileHandle.standardError.write(Data("sluice: warning: \(name) (publish-only): \(verdict)\n".utf8))
                }
            } else {
                print("dns: \(name) publishes the key of \(k.storedAt)")
            }
        }
        if !problems.isEmpty { throw UserError(problems.joined(separator: "; ")) }
    }
}
