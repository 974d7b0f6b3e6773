// `sluice trace QUEUE-ID`: the story of one message from the log: every line
// carrying its queue id, and the connection lines (connect, TLS, disconnect)
// of the sessions that carried it. Reads the JSON log, the text log (`serve
// --log-format text`, what `make run` prints) and journald's export.

import ArgumentParser
import Foundation
import SluiceCore

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Print the story of one message from the log.",
        discussion: """
            The log is read from --log FILE (JSON or text lines, or `journalctl -o json` output), from the journal of \
            the systemd unit with --journal, or from standard input. With --config (or a terminal for input) and neither \
            of the others, the daemon of that configuration is found (its pid in DATA_DIR/run) and, when systemd runs \
            it, its unit's journal is read.
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "Queue id.") var id: String
    @Option(name: .long, help: "A log file: JSON or text lines, or journalctl -o json output.") var log: String?
    @Flag(name: .long, help: "Read the journal of the unit (journalctl -u UNIT -o json).") var journal = false
    @Option(name: .long, help: "The systemd unit for --journal.") var unit = "sluice"
    @Flag(name: .long, help: "Print the matching lines as JSON.") var json = false

    func validate() throws {
        if journal && log != nil { throw ValidationError("give --log or --journal, not both") }
    }

    func run() async throws {
        let data: Data
        if let log {
            guard let d = FileManager.default.contents(atPath: log) else { throw UserError("cannot read \(log)") }
            data = d
        } else if journal {
            data = try Self.journal(unit: unit)
        } else if options.config != nil || isatty(STDIN_FILENO) != 0 {
            data = try Self.journal(unit: try Self.daemonUnit(options))
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let wanted = id.uppercased()
        var lines: [[String: String]] = []
        var unreadable = 0
        for raw in data.split(separator: UInt8(ascii: "\n")) {
            let text = String(decoding: raw, as: UTF8.self)
            if let fields = Self.fields(text) { lines.append(fields) } else if !text.allSatisfy(\.isWhitespace) { unreadable += 1 }
        }
        if unreadable > 0 {
            FileHandle.standardError.write(Data("sluice: \(unreadable) line(s) were neither JSON nor Sluice's text log; skipped\n".utf8))
        }
        let sessions = Set(lines.compactMap { $0["queue_id"] == wanted ? $0["session"] : nil })
        let story = lines.filter { line in
            line["queue_id"] == wanted || (line["queue_id"] == nil && line["session"].map(sessions.contains) == true)
        }
        guard !story.isEmpty else { throw UserError("no log line mentions \(wanted)") }
        for line in story {
            if json {
                let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
                continue
            }
            let skip: Set<String> = ["time", "level", "msg", "event", "queue_id", "session"]
            let fields = line.filter { !skip.contains($0.key) }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            print("\(line["time"] ?? "") \((line["event"] ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0)) \(line["msg"] ?? "") \(fields.joined(separator: " "))")
        }
    }

    /// The systemd unit running the daemon of this configuration, from its pid's cgroup; a daemon that
    /// systemd does not run logs to wherever its standard error goes, which only the operator knows.
    static func daemonUnit(_ options: ConfigOption) throws -> String {
        let config = try options.load()
        let state: RuntimeState
        do { state = try RuntimeState.read(config) } catch {
            throw UserError("no running daemon for \(options.path) (\((error as? UserError)?.message ?? "\(error)")): give --log FILE or --journal")
        }
        let cgroup: String
        do { cgroup = try String(contentsOfFile: "/proc/\(state.pid)/cgroup", encoding: .utf8) } catch {
            throw UserError("cannot tell how the daemon (pid \(state.pid)) runs: /proc/\(state.pid)/cgroup: \(error.localizedDescription); give --log FILE or --journal")
        }
        let unit = cgroup.split(whereSeparator: { $0 == "/" || $0 == "\n" }).last { $0.hasSuffix(".service") }
        guard let unit else {
            throw UserError(
                "the daemon (pid \(state.pid)) is not a systemd service, so its log is where its standard error goes: give --log FILE (or pipe it in)")
        }
        return String(unit)
    }

    /// The fields of one log line in any of the formats; nil for a line that is none of them.
    static func fields(_ line: String) -> [String: String]? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            // Not JSON: the caller counts the line as unreadable and says so.
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else { return nil }
            // journald's export: our line is its MESSAGE.
            if object["__CURSOR"] != nil || object["_SYSTEMD_UNIT"] != nil || object["__REALTIME_TIMESTAMP"] != nil {
                if let message = object["MESSAGE"] as? String { return fields(message) }
                if let bytes = object["MESSAGE"] as? [Int] { return fields(String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)) }
                return nil
            }
            return object.mapValues { "\($0)" }
        }
        return LogLineFormat.parseText(trimmed)
    }

    static func journal(unit: String) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        p.arguments = ["-u", unit, "-o", "json", "--no-pager"]
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { throw UserError("cannot run journalctl: \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw UserError("journalctl -u \(unit) failed (status \(p.terminationStatus))") }
        return data
    }
}
