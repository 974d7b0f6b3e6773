// `sluice check`: validate the configuration without starting anything (like nginx -t).

import ArgumentParser
import Foundation
import SluiceDaemon

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Validate the configuration; exit 1 on error.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try options.load()
        let rules = try Daemon.loadRules(config)
        for (name, set) in rules.sorted(by: { $0.key < $1.key }) {
            print("\(set.file): ok (rule set '\(name)', \(set.rules.count) rule(s))")
        }
        do {
            _ = try Daemon.dkimKeyring(config)  // reads and tries every active key
            let active = config.dkim.filter { $0.state == "active" }
            if !active.isEmpty {
                print("dkim: ok (\(active.map { "\($0.selector)._domainkey.\($0.domain) \($0.algorithm)" }.joined(separator: ", ")) signing)")
            }
        } catch let e as DaemonError {
            throw UserError(e.description)
        }
        print("\(options.path): ok (\(config.listeners.count) listener(s): \(config.listeners.map { "\($0.name) \($0.host):\($0.port)" }.joined(separator: ", ")))")
    }
}
