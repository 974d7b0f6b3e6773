// The queue has one discipline for its writers (R-CORE-3): 200 operator
// commands (`queue hold`, `queue release`) race the queue manager's own
// updates on 100 deferred messages whose delivery attempts are in flight
// (an upstream that takes 0.3 s to answer 451). No update is lost — every
// message ends as its last command left it — and no state is left unreadable.

import Foundation
import XCTest

final class QueueConcurrencyTests: XCTestCase {
    static let slowDefer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop/slow_defer.py").standardizedFileURL.path

    func testOperatorCommandsRacingDeliveriesLoseNoUpdate() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let port = freeLoopbackPort()
        let upstream = try Self.deferringUpstream(port: port, delay: 0.3)
        defer { upstream.terminate() }

        let d = try DaemonProcess(yaml: """
            upstreams:
              slow: { hosts: ["127.0.0.1:\(port)"], tls: none, max_connections: 20 }
            delivery: { retry_schedule: [1s], max_delivery_time: 1h }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try d.writeRules("rules:\n  - { name: all, then: [ { relay: slow } ] }\n")
        try d.start()
        defer { _ = d.stop() }
        var ids: [String] = []
        for i in 0..<100 {
            let r = try TestSMTPClient.sendMessage(
                port: d.port(), from: "a@example.test", to: "b@example.org",
                message: "From: a@example.test\r\nTo: b@example.org\r\nSubject: \(i)\r\n\r\nhi\r\n")
            XCTAssertEqual(r.code, 250)
            ids.append(String(r.text.split(separator: " ").last ?? ""))
        }
        // Every message has been attempted at least once and is being retried.
        func states() throws -> [String: String] {
            let (status, out, err) = try d.cli(["queue", "list", "--json"])
            XCTAssertEqual(status, 0, err)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            XCTAssertEqual((json["corrupt"] as? [Any])?.count, 0)
            return Dictionary(uniqueKeysWithValues: (json["messages"] as? [[String: Any]] ?? []).map { ($0["id"] as! String, $0["state"] as! String) })
        }
        var seen: [String: String] = [:]
        XCTAssertTrue(waitUntil(60) {
            seen = (try? states()) ?? [:]
            return seen.values.filter { $0 == "deferred" }.count == 100
        }, "\(Dictionary(grouping: seen.values, by: { $0 }).mapValues(\.count)) \(seen.count)")

        // 200 commands from 4 workers: hold all; then release the even ones and hold the odd ones again.
        let commands = ids.map { ["queue", "hold", $0] } + ids.enumerated().map { ["queue", $0.offset % 2 == 0 ? "release" : "hold", $0.element] }
        let failures = NIOLockedCounter()
        let logStart = d.log().count
        let (binary, config) = (DaemonProcess.binary, d.configPath)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            // Each worker takes every fourth command, in order, so a message's hold comes before its second command.
            for (n, args) in commands.enumerated() where n % 4 == worker {
                let (status, _, err) = (try? runTool(binary, args + ["--config", config])) ?? (-1, "", "did not run")
                if status != 0 { failures.add("\(args): \(err)") }
            }
        }
        XCTAssertEqual(failures.all, [])
        // Attempts in flight when the commands ran have finished once every released message was retried
        // after the last command (each retry takes the upstream's 0.3 s).
        let even = ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        XCTAssertTrue(waitUntil(60) {
            let recent = String(d.log().dropFirst(logStart))
            return even.allSatisfy { recent.contains("\"queue_id\":\"\($0)\"") && recent.contains("delivery deferred") }
        }, "released messages were not retried")
        let final = try states()
        for (i, id) in ids.enumerated() {
            XCTAssertEqual(final[id], i % 2 == 0 ? "deferred" : "held", "message \(i) \(id)")
        }
        // Every state file reads: its listing record ("SLQL1", 8 digits of length, the payload, the digits, "\n"),
        // then the entry's JSON.
        let stateDir = d.queueDir + "/state"
        for name in (try FileManager.default.contentsOfDirectory(atPath: stateDir)) {
            let data = try XCTUnwrap(FileManager.default.contents(atPath: stateDir + "/" + name))
            XCTAssertEqual(String(decoding: data.prefix(5), as: UTF8.self), "SLQL1", name)
            let length = try XCTUnwrap(Int(String(decoding: data.dropFirst(5).prefix(8), as: UTF8.self)), name)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: data.dropFirst(length + 22)), name)
        }
    }
}

extension QueueConcurrencyTests {
    /// Tests/interop/slow_defer.py on 127.0.0.1:PORT, answering 451 to every message after `delay` seconds;
    /// returns once it listens.
    static func deferringUpstream(port: Int, delay: Double) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [slowDefer, "\(port)", "\(delay)"]
        let ready = Pipe()
        p.standardOutput = ready
        try p.run()
        let line = String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self)
        guard line.trimmingCharacters(in: .whitespacesAndNewlines) == "ready" else {
            p.terminate()
            throw XCTSkip("the deferring upstream did not start: \(line)")
        }
        return p
    }
}

/// Failures collected from concurrent workers.
final class NIOLockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
