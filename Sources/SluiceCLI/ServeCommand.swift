// `sluice serve`: run the daemon in the foreground.

import ArgumentParser
import Foundation
import Logging
import SluiceComponents
import SluiceDaemon

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the mail gateway in the foreground.")

    @OptionGroup var options: ConfigOption

    @Option(name: .long, help: "Log format: json (one object per line) or text.")
    var logFormat: String = "json"

    @Option(name: .long, help: "Seconds sessions in flight may take to finish after SIGTERM.")
    var shutdownGrace: Double = 30

    func validate() throws {
        guard ["json", "text"].contains(logFormat) else { throw ValidationError("--log-format must be json or text") }
    }

    func run() async throws {
        let config = try options.load()
        let text = logFormat == "text"
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, text: text) }
        let registry = Daemon.bootstrapMetrics()
        var logger = Logger(label: "sluice")
        logger.logLevel = .info
        var daemon = Daemon(config: config, components: Components.standard, logger: logger)
        daemon.shutdownGrace = shutdownGrace
        do {
            try await daemon.run(metrics: registry)
        } catch let e as DaemonError {
            throw UserError(e.description)
        }
    }
}
