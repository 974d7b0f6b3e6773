// `sluice check`: validate the configuration without starting anything (like nginx -t).

import ArgumentParser
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration; exit 1 on error.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        print("\(options.path): ok (\(config.listeners.count) listener(s): \(config.listeners.map { "\($0.name) \($0.host):\($0.port)" }.joined(separator: ", ")))")
    }
}
