// `sluice trace QUEUE-ID`: the story of one message from the JSON log: every
// line carrying its queue id, and the connection lines (connect, TLS,
// disconnect) of the sessions that carried it.

import ArgumentParser
import Foundation

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Print the story of one message from the log.")

    @Argument(help: "Queue id.") var id: String
    @Option(name: .long, help: "A JSON log file (default: standard input).") var log: String?
    @Flag(name: .long, help: "Print the matching JSON lines as they are.") var json = false

    func run() async throws {
        let data: Data
        if let log {
            guard let d = FileManager.default.contents(atPath: log) else { throw UserError("cannot read \(log)") }
            data = d
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let wanted = id.uppercased()
        var lines: [(String, [String: Any])] = []
        for raw in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: raw) as? [String: Any] else { continue }
            lines.append((String(decoding: raw, as: UTF8.self), object))
        }
        let sessions = Set(lines.compactMap { $0.1["queue_id"] as? String == wanted ? $0.1["session"] as? String : nil })
        let story = lines.filter { line in
            line.1["queue_id"] as? String == wanted
                || (line.1["queue_id"] == nil && (line.1["session"] as? String).map(sessions.contains) == true)
        }
        guard !story.isEmpty else { throw UserError("no log line mentions \(wanted)") }
        for (raw, object) in story {
            if json {
                print(raw)
                continue
            }
            let skip: Set<String> = ["time", "level", "msg", "event", "queue_id", "session"]
            let fields = object.filter { !skip.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print("\(object["time"] ?? "") \((object["event"] as? String ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)) \(object["msg"] ?? "") \(fields.joined(separator: " "))")
        }
    }
}
