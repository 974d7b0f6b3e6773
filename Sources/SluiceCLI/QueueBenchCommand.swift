// `sluice queue bench`: fills a scratch queue with deferred messages (each
// with a state file, as after a failed attempt) and times what `queue list`,
// `queue list --json`, a filtered list and `queue summary` do with them,
// in-process, output rendered but not printed (bench/queue.sh runs it on
// tmpfs at 20,000 and 100,000 messages).

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceCore
import SluiceQueue

/// A scratch queue no daemon reads.
struct NoDaemon: QueueChangeNotifier {
    func queueChanged(_ ids: [QueueID]) async {}
}

extension QueueCommand {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time queue list, --json, filters and summary on a scratch queue of deferred messages.")
        @Option(help: "Messages to queue.") var messages: Int = 100_000
        @Option(help: "The scratch queue directory (deleted first; tmpfs keeps the fill fast).") var dir: String
        @Option(help: "Runs per operation.") var runs: Int = 3

        func run() async throws {
            if FileManager.default.fileExists(atPath: dir) { try FileManager.default.removeItem(atPath: dir) }
            let store = try QueueStore(directory: dir)
            let began = Date()
            let now = Date()
            for i in 0..<messages {
                let id = QueueID.generate()
                let sender = MailAddress(localPart: "user\(i % 500)", domain: "corp\(i % 7).test")
                let rcpt = MailAddress(localPart: "peer\(i % 9000)", domain: "dest\(i % 50).test")
                let envelope = Envelope(
                    queueID: id, sender: sender, recipients: [Recipient(address: rcpt)], client: ClientInfo(address: IPAddress("192.0.2.7"), listener: "relay"),
                    receivedAt: now.addingTimeInterval(-Double(i % 172_800)))
                let bytes = Array("From: \(sender)\r\nTo: \(rcpt)\r\nSubject: bench \(i)\r\n\r\nbody\r\n".utf8)
                var entry = QueueEntry(
                    envelope: envelope, plan: DeliveryPlan(routes: [Route(target: .relay(upstream: "smarthost"), recipients: [rcpt])]),
                    size: bytes.count, queuedAt: envelope.receivedAt)
                try store.submit(bytes, entry)
                entry.routes[0].attempts = 2
                entry.routes[0].lastError = "451 4.4.1 smarthost 192.0.2.25:25: connection refused"
                entry.nextAttempt = now.addingTimeInterval(600)
                let deferred = entry
                _ = try store.modify(id) { _ in .update(deferred) }
            }
            print(String(format: "fill: %d deferred messages in %.1f s", messages, Date().timeIntervalSince(began)))
            let all = try QueueFilter.parse([]).selection
            let filtered = try QueueFilter.parse(["--state", "deferred", "--to-domain", "dest7.test", "--older", "1h"]).selection
            let admin = QueueAdmin(store: store, notifier: NoDaemon(), observer: nil, clock: WallClock())
            // Output counted, not printed: what is timed is reading, filtering and formatting.
            let operations: [(String, () throws -> Int)] = [
                ("queue list", {
                    var bytes = 0
                    _ = try QueueCommand.streamTable(all, admin) { bytes += $0.utf8.count }
                    return bytes
                }),
                ("queue list --json", {
                    var bytes = 0
                    try QueueCommand.streamJSON(all, admin, corrupt: []) { bytes += $0.utf8.count }
                    return bytes
                }),
                ("queue list --state deferred --to-domain dest7.test --older 1h", {
                    var bytes = 0
                    _ = try QueueCommand.streamTable(filtered, admin) { bytes += $0.utf8.count }
                    return bytes
                }),
                ("queue summary", { try admin.summary(all).domains.count }),
            ]
            for (name, operation) in operations {
                var times: [Double] = []
                var size = 0
                for _ in 0..<runs {
                    let t = Date()
                    size = try operation()
                    times.append(Date().timeIntervalSince(t))
                }
                times.sort()
                print(String(format: "%-64@ median %6.2f s  (%d bytes of output)", name + ":", times[times.count / 2], size))
            }
        }
    }
}
