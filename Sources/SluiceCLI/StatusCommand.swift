// `sluice status`: asks the running daemon (admin listener) for its listeners,
// queue depth and states, upstream hosts' health, readiness, uptime and the
// admin address. `sluice reload`: validates like the
// daemon, sends SIGHUP, and waits for the daemon to publish the outcome.

import ArgumentParser
import Foundation
import SluiceConfig
import SluicePipeline

#if canImport(Glibc)
import Glibc
#endif

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the running daemon's state.")

    @OptionGroup var options: ConfigOption
    @Flag(name: .long, help: "One JSON document instead of a table.") var json = false

    func run() async throws {
        let config = try options.load()
        let state = try RuntimeState.read(config)
        let host = config.admin.host == "0.0.0.0" ? "127.0.0.1" : (config.admin.host == "::" ? "::1" : config.admin.host)
        let (code, body) = try httpGet(host: host, port: state.adminPort, path: "/status")
        guard code == 200 else { throw UserError("the admin listener answered \(code)") }
        if json {
            FileHandle.standardOutput.write(body)
            return
        }
        guard let s = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw UserError("unreadable status")
        }
        let queue = s["queue"] as? [String: Any] ?? [:]
        print("sluice \(s["hostname"] ?? "?") pid \(s["pid"] ?? "?"), up \(s["uptime_seconds"] ?? 0)s, "
            + ((s["ready"] as? Bool) == true ? "ready" : "NOT READY: \(s["not_ready_reason"] ?? "")"))
        print("admin: http://\(s["admin"] ?? "?") (/metrics /healthz /readyz /status)")
        let states = queue["by_state"] as? [String: Int] ?? [:]
        let byState = ["active", "deferred", "held", "quarantined", "corrupt"].map { "\(states[$0] ?? 0) \($0)" }.joined(separator: ", ")
        let indexing = queue["complete"] as? Bool == false ? " — still indexing the queue found at start: counts so far" : ""
        print(
            "queue: \(queue["depth"] ?? 0) message(s) (\(byState)), \(queue["in_flight"] ?? 0) being delivered, "
                + "oldest \(queue["oldest_age_seconds"] ?? 0)s\(indexing)")
        let free = (queue["free_bytes"] as? Int).map { "\($0 >> 20) MiB free" } ?? "free space unknown"
        if queue["space_low"] as? Bool == true {
            print("disk: \(free), below queue.min_free (\((queue["min_free"] as? Int ?? 0) >> 20) MiB): NEW MAIL IS REFUSED WITH 452 4.3.1")
        } else {
            print("disk: \(free)")
        }
        if let m = s["memory"] as? [String: Any] {
            let mib = { (key: String) in "\(((m[key] as? Int) ?? 0) >> 20) MiB" }
            print("memory: \(mib("resident_bytes")) resident (\(mib("free_heap_bytes")) free in the heap); delivery holds "
                + "\(m["queue_active"] ?? 0) message(s) in memory, \(m["queue_scheduled"] ?? 0) scheduled")
        }
        if let n = queue["corrupt_files"] as? Int, n > 0 { print("queue: \(n) unreadable file(s) in corrupt/ (sluice queue list)") }
        print("rules: \(s["rules"] ?? "?")")
        let table = TextTable(headers: ["LISTENER", "PORT", "CONNECTIONS"])
        for l in s["listeners"] as? [[String: Any]] ?? [] {
            table.add(["\(l["name"] ?? "")", "\(l["port"] ?? "")", "\(l["connections"] ?? "")"])
        }
        print(table.render(), terminator: "")
        let scanners = s["scanners"] as? [[String: Any]] ?? []
        if !scanners.isEmpty {
            let table = TextTable(headers: ["SCANNER", "STATE", "ANSWERED", "FOUND", "ERRORS", "LAST ERROR"])
            for c in scanners {
                let error = (c["last_error"] as? String).map { "\($0) (\(c["last_error_at"] as? String ?? ""))" } ?? "-"
                table.add(["\(c["scanner"] ?? "")", "\(c["state"] ?? "")", "\(c["answered"] ?? 0)", "\(c["found"] ?? 0)", "\(c["errors"] ?? 0)", error])
            }
            print(table.render(), terminator: "")
        }
        let upstreams = s["upstreams"] as? [[String: Any]] ?? []
        if !upstreams.isEmpty {
            let hosts = TextTable(headers: ["UPSTREAM", "HOST", "STATE", "FAILURES", "LAST ERROR"])
            for u in upstreams {
                var state = "\(u["state"] ?? "?")"
                if let until = u["resting_until"] as? String { state += " until \(until)" }
                let error = (u["last_error"] as? String).map { "\($0) (\(u["last_error_at"] as? String ?? ""))" } ?? "-"
                hosts.add(["\(u["pool"] ?? "")", "\(u["host"] ?? "")", state, "\(u["failures"] ?? 0)", error])
            }
            print(hosts.render(), terminator: "")
        }
    }
}

struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Ask the running daemon to reload its configuration (SIGHUP).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        // Refuse early, with the position, whatever the daemon would refuse: the same runtime builder.
        let config = try options.load()
        _ = try await options.runtime(config)
        let state = try RuntimeState.read(config)
        let outcomeFile = config.dataDir + "/run/reload.json"
        let before = Self.outcome(outcomeFile)?["sequence"] as? Int ?? 0
        guard kill(state.pid, SIGHUP) == 0 else { throw UserError("cannot signal pid \(state.pid)") }
        // The daemon publishes the outcome of each reload; wait for the answer to this one (bounded).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let o = Self.outcome(outcomeFile), let n = o["sequence"] as? Int, n > before {
                guard o["ok"] as? Bool == true else { throw UserError("reload refused: \(o["error"] as? String ?? "?")") }
                let restart = o["restart_needed"] as? [String] ?? []
                print("reloaded (pid \(state.pid))" + (restart.isEmpty ? "" : "; changes to \(restart.joined(separator: ", ")) take effect after a restart"))
                return
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw UserError("no answer from pid \(state.pid) within 30 s; see its log")
    }

    /// The daemon's last published reload outcome; nil while there is none (or it is being replaced).
    static func outcome(_ path: String) -> [String: Any]? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }
}
