// DaemonProcess: the real `sluice serve` binary started on 127.0.0.1 port 0
// with a temporary data dir; tests learn the bound ports from
// var/run/listeners.json and read delivered mail from the outbox directory.

import Foundation
import SluiceTestSupport
import XCTest

final class DaemonProcess {
    let root: String
    var process: Process?
    private(set) var ports: [String: Int] = [:]
    let logPath: String
    /// The fixture nameserver the daemon asks when the test's YAML names none: listeners that admit
    /// untrusted clients verify SPF, DKIM and DMARC by default, and DNS in tests comes from the fixture.
    private var dns: FixtureDNSServer?

    /// The `sluice` binary built beside this test bundle.
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["SLUICE_BIN"] { return override }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The xctest bundle may be a directory on some platforms.
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("sluice").path) && dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("sluice").path
    }

    static let defaultAdmin = "admin: { address: \"127.0.0.1:0\" }"

    static let defaultListeners = """
        listeners:
          - { name: relay, address: "127.0.0.1:0", tls: starttls }
          - { name: smtps, address: "127.0.0.1:0", tls: implicit }
        """

    /// `yaml` replaces the listeners block when it contains "listeners:".
    init(yaml: String = "") throws {
        root = NSTemporaryDirectory() + "sluice-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        var config = (yaml.contains("hostname:") ? "" : "hostname: mx.sluice.test\n") + "data_dir: var\n"
        if !yaml.contains("listeners:") { config += Self.defaultListeners + "\n" }
        if !yaml.contains("admin:") { config += Self.defaultAdmin + "\n" }
        config += yaml + "\n"
        if !yaml.contains("dns:") {
            do {
                let fixture = try FixtureDNSServer(zone: "")
                dns = fixture
                config += "dns: { nameserver: \"127.0.0.1:\(fixture.port)\", timeout: 2s }\n"
            } catch let e as FixtureUnavailable {
                print("no fixture nameserver (\(e)); the daemon uses the system's")
            }
        }
        // Tests do not depend on the machine having queue.min_free's default 512 MiB free; DiskFullTests sets its own.
        if !yaml.contains("queue:") { config += "queue: { min_free: 1MB }\n" }
        logPath = root + "/sluice.log"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// An instance whose configuration file is `config` as given, with `rules/` copied from `rulesFrom`.
    init(configText config: String, rulesFrom: String) throws {
        root = NSTemporaryDirectory() + "sluice-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: rulesFrom, toPath: root + "/rules")
        logPath = root + "/sluice.log"
        try config.write(toFile: root + "/etc/sluice.yaml", atomically: true, encoding: .utf8)
    }

    var configPath: String { root + "/etc/sluice.yaml" }
    var outbox: String { root + "/var/outbox" }
    var queueDir: String { root + "/var/queue" }
    func port(_ name: String = "relay") -> Int { ports[name]! }

    func start(environment: [String: String] = [:], arguments: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let state = root + "/var/run/listeners.json"
        try? FileManager.default.removeItem(atPath: state)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--config", configPath, "--shutdown-grace", "5"] + arguments
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logHandle.seekToEndOfFile()
        p.standardError = logHandle
        p.standardOutput = logHandle
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: state),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                json["pid"] as? Int == Int(p.processIdentifier), let l = json["listeners"] as? [String: Int]
            {
                ports = l
                ports["admin"] = json["admin"] as? Int
                return
            }
            if !p.isRunning { break }
            usleep(20_000)
        }
        XCTFail("daemon did not start; log:\n\(log())", file: file, line: line)
        throw CocoaError(.featureUnsupported)
    }

    /// Writes rules/SET.yaml (and the rules directory) for this daemon.
    func writeRules(_ yaml: String, set: String = "default") throws {
        try FileManager.default.createDirectory(atPath: root + "/rules", withIntermediateDirectories: true)
        try yaml.write(toFile: root + "/rules/\(set).yaml", atomically: true, encoding: .utf8)
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let p = process, p.isRunning else { return process?.terminationStatus ?? 0 }
        p.terminate()
        p.waitUntilExit()
        return p.terminationStatus
    }

    func kill9() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Resident set size of the daemon in KiB.
    func rssKiB() -> Int {
        guard let p = process,
            let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    func outboxFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
    }

    /// Waits until the outbox holds `count` messages; returns their contents.
    @discardableResult
    func waitForOutbox(count: Int, timeout: Double = 15, file: StaticString = #filePath, line: UInt = #line) -> [Data] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let files = outboxFiles()
            if files.count >= count {
                return files.compactMap { FileManager.default.contents(atPath: outbox + "/" + $0) }
            }
            usleep(20_000)
        }
        XCTFail("outbox has \(outboxFiles().count) messages, expected \(count)", file: file, line: line)
        return []
    }

    static func waitForFiles(in dir: String, count: Int, timeout: Double = 20) -> [Data] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".eml") }
            if names.count >= count { return names.sorted().compactMap { FileManager.default.contents(atPath: dir + "/" + $0) } }
            usleep(20_000)
        }
        XCTFail("\(dir) did not get \(count) messages")
        return []
    }

    func waitForLog(_ needle: String, timeout: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log().contains(needle) { return true }
            usleep(20_000)
        }
        return false
    }

    /// Runs `sluice ARGS --config this`; returns (status, stdout, stderr).
    func cli(_ args: [String]) throws -> (Int32, String, String) {
        try runTool(Self.binary, args + ["--config", configPath])
    }

    deinit {
        kill9()
        if ProcessInfo.processInfo.environment["SLUICE_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: root)
        }
    }
}

/// Runs a program to completion; returns (status, stdout, stderr).
func runTool(
    _ path: String, _ args: [String], stdin: String? = nil, timeout: Double = 60, currentDirectory: String? = nil
) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = Pipe()
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so neither fills up.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Finds a program on PATH.
func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}
