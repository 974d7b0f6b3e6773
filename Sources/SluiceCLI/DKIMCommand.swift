// `sluice dkim keygen|dns`: make signing keys and print the DNS records to
// publish (R-MAUTH-1). Rotation: add the new selector as `publish-only`,
// publish its record, make it `active` beside the old one, then mark the old
// one `retired` and remove its record once no mail signed with it is in flight.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceConfig
import SluicePipeline
import SluiceMailAuth

struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim", abstract: "DKIM signing keys and their DNS records.",
        subcommands: [Keygen.self, DNS.self, Activate.self, Retire.self, Speed.self])

    static func admin(_ options: ConfigOption, config: SluiceConfiguration) throws -> DKIMAdmin {
        DKIMAdmin(store: try options.storage(config).store((any DKIMKeyStore).self), configured: config.dkim)
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a signing key (mode 0600) and print its TXT record and the config entry.")

        @OptionGroup var options: ConfigOption
        @Option(help: "The signing domain (d=).") var domain: String
        @Option(help: "The selector (s=).") var selector: String
        @Option(help: "rsa or ed25519.") var algorithm: String = "rsa"
        @Option(help: "RSA key size: 1024, 2048, 3072 or 4096.") var bits: Int = 2048
        @Option(help: "Where to write the key, relative to the current directory (default DATA_DIR/dkim/DOMAIN.SELECTOR.pem; no config needed).")
        var out: String?

        func run() async throws {
            // With --out no configuration is needed; without it the data dir comes from the configuration.
            let config: SluiceConfiguration?
            if out == nil || FileManager.default.fileExists(atPath: options.path) {
                do {
                    config = try options.load()
                } catch where out != nil {
                    // With --out the key does not need it; the advice below would, so say why it is generic.
                    FileHandle.standardError.write(Data("sluice: warning: \(options.path) not read (\(error)); the advice below ignores it\n".utf8))
                    config = nil
                }
            } else {
                config = nil  // no configuration at all: --out is enough
            }
            guard let alg = ["rsa": DKIMAlgorithm.rsaSHA256, "ed25519": .ed25519SHA256][algorithm.lowercased()] else {
                throw ValidationError("--algorithm is rsa or ed25519")
            }
            let d = domain.lowercased()
            let key = try DKIMAdmin.generate(algorithm: alg, bits: bits)
            let path: String
            if let out {
                // A file the operator names, outside any store (a key made for another machine).
                path = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
                if FileManager.default.fileExists(atPath: path) {
                    throw UserError("\(path) exists; a key is never overwritten (pick a new selector for a new key)")
                }
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                guard FileManager.default.createFile(atPath: path, contents: Data(key.pem.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw UserError("cannot write \(path)")
                }
            } else {
                try DataDirectoryOwner.adopt(config!)  // the daemon, running as the data directory's owner, reads it
                let settingsAlgorithm: DKIMKeySettings.Algorithm = alg == .rsaSHA256 ? .rsaSHA256 : .ed25519SHA256
                path = try await DKIMCommand.admin(options, config: config!).keep(key, domain: d, selector: selector, algorithm: settingsAlgorithm)
            }
            print("\(selector)._domainkey.\(d). IN TXT \(DKIMKeys.quoted(key.record))")
            print("")
            let shared = out == nil && config?.storage.backend != embeddedBackend
            let advice =
                shared
                ? Self.sharedAdvice(config: config!, configPath: options.path, domain: d, selector: selector, path: path)
                : Self.advice(config: config, configPath: options.path, domain: d, selector: selector, algorithm: alg, path: path)
            for line in advice {
                print("# " + line)
            }
        }

        /// What to do next with a key kept in a store shared by several nodes: its state is the store's.
        static func sharedAdvice(config: SluiceConfiguration, configPath: String, domain: String, selector: String, path: String) -> [String] {
            var lines = ["key kept in \(path)."]
            if config.dkim.contains(where: { $0.domain.lowercased() == domain }) {
                lines.append("Every node sharing the store has it as publish-only (unless the dkim: list of \(configPath) says otherwise).")
            } else {
                lines.append("Add { domain: \(domain), selector: \(selector), state: publish-only } to the dkim: list of \(configPath) on every node.")
            }
            lines.append("Publish the record above, then `sluice dkim activate --domain \(domain) --selector \(selector)` on any node.")
            return lines
        }

        /// What to do next, from what the configuration already says about this key (the default config lists
        /// example.test s1 as active: advice to add it as publish-only would contradict it).
        static func advice(
            config: SluiceConfiguration?, configPath: String, domain: String, selector: String, algorithm: DKIMAlgorithm, path: String
        ) -> [String] {
            let entry = config?.dkim.first { $0.domain.lowercased() == domain && $0.selector == selector }
            guard let entry else {
                return [
                    "key written to \(path); add to the dkim: list of \(config == nil ? "your configuration" : configPath):",
                    "  - { domain: \(domain), selector: \(selector), algorithm: \(algorithm.rawValue), key: \(path), state: publish-only }",
                    "publish the record above, and make the key active once the record is visible in DNS (sluice check --dns).",
                ]
            }
            var lines = ["key written to \(path)."]
            if entry.keyFile != path {
                lines.append("\(entry.location): \(configPath) lists \(selector)._domainkey.\(domain) with key \(entry.keyFile), not this file: point it here.")
            }
            switch entry.state {
            case .active:
                lines.append("\(configPath) already lists this key as active: it signs as soon as the daemon (re)loads it.")
                lines.append("Publish the record above now: until it is visible in DNS, receivers cannot verify mail signed with it.")
            case .publishOnly:
                lines.append("\(configPath) lists it as publish-only: publish the record above, then make it active.")
            case .retired:
                lines.append("\(configPath) lists it as retired: it will not sign; pick a new selector for a new key.")
            }
            return lines
        }
    }

    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the TXT record of every active and publish-only key; retired keys are listed for removal.")

        @OptionGroup var options: ConfigOption
        @Flag(help: "One JSON document.") var json = false

        func run() async throws {
            let config = try options.load()
            let rows: [[String: String]] = try await DKIMCommand.admin(options, config: config).records().map { r in
                var row = ["name": r.key.name, "state": r.key.state.rawValue, "algorithm": r.key.algorithm.rawValue, "key": r.key.storedAt]
                row["record"] = r.txt
                return row
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: ["records": rows], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            if rows.isEmpty { print("no DKIM keys configured (dkim: in \(options.path))") }
            for r in rows {
                if let record = r["record"] {
                    print("; \(r["state"]!) \(r["algorithm"]!)")
                    print("\(r["name"]!). IN TXT \(DKIMKeys.quoted(record))")
                } else {
                    print("; retired: remove \(r["name"]!). once no mail signed with it is in flight")
                }
            }
        }
    }
}

extension DKIMCommand {
    /// How far a state change reaches: every node when the store is shared.
    static func everywhere(_ options: ConfigOption, _ config: SluiceConfiguration) -> String {
        let backend = config.storage.backend
        guard backend != embeddedBackend else { return "" }
        return " in the shared store (\(backend)): every running node reloads its keys when it next looks (storage.\(backend).refresh)"
    }

    /// `sluice dkim activate|retire`: a key's state, in the store (with the embedded store: which line to edit).
    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key sign (after its record is published).")
        @OptionGroup var options: ConfigOption
        @Option(help: "The signing domain (d=).") var domain: String
        @Option(help: "The selector (s=).") var selector: String

        func run() async throws {
            let config = try options.load()
            try await DKIMCommand.admin(options, config: config).setState(domain: domain, selector: selector, state: .active)
            print("\(selector)._domainkey.\(domain.lowercased()) is active\(DKIMCommand.everywhere(options, config))")
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a key signing (its record can go once no mail signed with it is in flight).")
        @OptionGroup var options: ConfigOption
        @Option(help: "The signing domain (d=).") var domain: String
        @Option(help: "The selector (s=).") var selector: String

        func run() async throws {
            let config = try options.load()
            try await DKIMCommand.admin(options, config: config).setState(domain: domain, selector: selector, state: .retired)
            print("\(selector)._domainkey.\(domain.lowercased()) is retired\(DKIMCommand.everywhere(options, config))")
        }
    }

    /// Like `openssl speed`: how many messages per second one core signs, per algorithm.
    struct Speed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure DKIM signatures per second on one core (a 4 KiB message by default), with throwaway keys.")

        @Option(help: "Seconds per algorithm.") var seconds: Double = 3
        @Option(help: "Message size in bytes.") var size: Int = 4096
        @Option(help: "Only this algorithm (rsa-sha256 or ed25519-sha256).") var algorithm: String?
        @Flag(help: "Only Sluice's signer (not libopendkim's for comparison).") var sluiceOnly = false

        func run() async throws {
            let header = Array("From: a@example.test\r\nTo: b@example.org\r\nSubject: speed\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <speed@example.test>\r\n\r\n".utf8)
            let line = Array("The quick brown fox jumps over the lazy dog 0123456789.\r\n".utf8)
            var body: [UInt8] = []
            while body.count + header.count < size { body += line }
            for (alg, bits) in [(DKIMAlgorithm.rsaSHA256, 2048), (.ed25519SHA256, 256)] where algorithm == nil || algorithm == alg.rawValue {
                let key = DKIMSigner.Key(domain: "example.test", selector: "speed", algorithm: alg, privateKeyPEM: try DKIMKeys.generate(alg))
                // Sluice's signer (key parsed once) and libopendkim (key parsed per signature), same work otherwise.
                let ours = try DKIMSigner(key: key)
                let reference = try OpenDKIMSigner(key: key)
                for (name, sign) in [
                    ("sluice", { _ = try ours.sign(id: "speed", header: header) { try $0(body) } }),
                    ("libopendkim", { _ = try reference.sign(id: "speed", header: header) { try $0(body) } }),
                ] as [(String, () throws -> Void)] where name == "sluice" || !sluiceOnly {
                    let start = Date()
                    var count = 0
                    while Date().timeIntervalSince(start) < seconds {
                        try sign()
                        count += 1
                    }
                    let rate = Double(count) / Date().timeIntervalSince(start)
                    print(String(format: "%@ %@ (%d bit) %d-byte message: %.0f signatures/s", name, alg.rawValue, bits, header.count + body.count, rate))
                }
            }
        }
    }
}
