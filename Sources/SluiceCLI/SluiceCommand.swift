// The `sluice` command line: verbs of SPEC §1 "CLI conventions". Exit 0 on
// success, 1 on a user error (one line on stderr), 2 on usage errors.

import ArgumentParser
import Foundation
import Logging
import SluiceAdmin
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceRules

public struct SluiceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Sluice: an SMTP relay and mail gateway.",
        version: SluiceVersion.description,
        subcommands: [
            ServeCommand.self, CheckCommand.self, QueueCommand.self, QuarantineCommand.self, RulesCommand.self, CredsCommand.self, StatusCommand.self,
            ReloadCommand.self, TraceCommand.self, DKIMCommand.self, DLPCommand.self, ArchiveCommand.self, TLSRPTCommand.self,
            StorageCommand.self, ClusterCommand.self,
        ])

    public init() {}

    /// Parses, runs, and maps errors to the exit codes of the CLI conventions.
    public static func main(arguments: [String]) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let e as UserError {
            FileHandle.standardError.write(Data("sluice: \(e.message)\n".utf8))
            Foundation.exit(1)
        } catch let e as AdminError {
            FileHandle.standardError.write(Data("sluice: \(e.description)\n".utf8))
            Foundation.exit(1)
        } catch let e as ConfigError {
            FileHandle.standardError.write(Data("sluice: \(e)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version.
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure {
                FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
                Foundation.exit(2)
            }
            FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// A mistake the user can fix; printed as one line, exit status 1.
public struct UserError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// `--config FILE`, shared by every verb.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The configuration file (default: etc/sluice.yaml in a checkout, else /etc/sluice/sluice.yaml).")
    var config: String?

    var path: String {
        if let config { return config }
        if FileManager.default.fileExists(atPath: "etc/sluice.yaml") { return "etc/sluice.yaml" }
        return "/etc/sluice/sluice.yaml"
    }

    /// The configuration, with the sections of every component of the composition root.
    func load() throws -> SluiceConfiguration {
        try SluiceConfiguration.load(
            file: path, sections: Components.standard.sections, policyConditions: Components.standard.policyConditions)
    }

    /// The stores of the configured backend, opened on first use (never a concrete store type here).
    func storage(_ config: SluiceConfiguration) throws -> Storage {
        let executors = Executors.single()
        executors.start()
        do {
            return try Storage(
                components: Components.standard,
                context: StorageContext(config: config, executors: executors, clock: WallClock(), logger: Logger(label: "sluice") { _ in SwiftLogNoOpLogHandler() }))
        } catch let e as RuntimeError {
            throw UserError(e.description)
        }
    }

    /// The daemon's runtime for this configuration: what `check`, `reload` and `rules test` validate with.
    func runtime(_ config: SluiceConfiguration, storage: Storage? = nil) async throws -> Runtime {
        do {
            return try await Runtime.build(config, components: Components.standard, storage: try storage ?? self.storage(config))
        } catch let e as RuntimeError {
            throw UserError(e.description)
        } catch let e as VocabularyError {
            throw UserError(e.description)
        }
    }
}
