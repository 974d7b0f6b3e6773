// Operations: the JSON log tells each message's story by queue id, metrics
// move as mail flows, health endpoints answer, SIGHUP reloads (and refuses a
// broken file), SIGTERM drains without losing acknowledged mail, and the
// systemd unit verifies.

import Foundation
import XCTest

final class OperationsTests: XCTestCase {
    func send(_ port: Int, subject: String, body: String = "body\r\n") throws -> (Int, String) {
        let r = try TestSMTPClient.sendMessage(port: port, message: "Subject: \(subject)\r\nMessage-ID: <\(subject)@ops.test>\r\n\r\n\(body)")
        return (r.code, r.text)
    }

    func logLines(_ d: DaemonProcess) -> [[String: Any]] {
        d.log().split(separator: "\n").map { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object, "not JSON: \(line)")
            return object ?? [:]
        }
    }

    func testLogToldStoriesByQueueID() throws {
        let d = try DaemonProcess(yaml: "delivery: { retry_schedule: [1h] }")
        try d.start()
        // Delivered.
        let (c1, t1) = try send(d.port(), subject: "delivered")
        XCTAssertEqual(c1, 250)
        let delivered = String(t1.split(separator: " ").last!)
        d.waitForOutbox(count: 1)
        // Rejected at end of data (bare LF).
        let (c2, _) = try send(d.port(), subject: "rejected", body: "bare\nline\r\n")
        XCTAssertEqual(c2, 554)
        // Deferred: the outbox becomes a file, so the store route fails temporarily.
        try FileManager.default.moveItem(atPath: d.outbox, toPath: d.outbox + ".old")
        _ = FileManager.default.createFile(atPath: d.outbox, contents: Data())
        let (c3, t3) = try send(d.port(), subject: "deferred")
        XCTAssertEqual(c3, 250)
        let deferred = String(t3.split(separator: " ").last!)
        XCTAssertTrue(d.waitForLog("\"event\":\"deferred\""))
        XCTAssertEqual(d.stop(), 0)

        let lines = logLines(d)
        func events(_ id: String) -> [String] { lines.filter { $0["queue_id"] as? String == id }.compactMap { $0["event"] as? String } }
        XCTAssertEqual(events(delivered), ["data", "queued", "delivered", "removed"])
        XCTAssertEqual(
            events(deferred), ["data", "queued", "deferred"], "\(lines.filter { $0["queue_id"] as? String == deferred })")
        let rejectedID = try XCTUnwrap(
            lines.first { $0["event"] as? String == "reject" && ($0["reply"] as? String)?.hasPrefix("554") == true }?["queue_id"] as? String)
        XCTAssertEqual(events(rejectedID), ["data", "reject"])
        // Every line has a time, a level, a message and an event.
        for line in lines {
            XCTAssertNotNil(line["time"])
            XCTAssertNotNil(line["event"], "\(line)")
        }
        // sluice trace rebuilds the story, connection lines included.
        let (status, out, err) = try runTool(DaemonProcess.binary, ["trace", delivered, "--log", d.logPath])
        XCTAssertEqual(status, 0, err)
        for word in ["connect", "data", "queued", "delivered", "removed", "disconnect"] {
            XCTAssertTrue(out.contains(" \(word) ") || out.contains(" \(word)"), "trace lacks \(word):\n\(out)")
        }
        XCTAssertFalse(out.contains(deferred))

        // The same story from journald's export (`journalctl -o json`: our line is its MESSAGE).
        let journal = d.log().split(separator: "\n").map { line -> String in
            let record: [String: Any] = ["__CURSOR": "s=1", "_SYSTEMD_UNIT": "sluice.service", "MESSAGE": String(line)]
            return String(decoding: try! JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        }.joined(separator: "\n")
        try journal.write(toFile: d.root + "/journal.json", atomically: true, encoding: .utf8)
        let (jStatus, jOut, jErr) = try runTool(DaemonProcess.binary, ["trace", delivered, "--log", d.root + "/journal.json"])
        XCTAssertEqual(jStatus, 0, jErr)
        XCTAssertEqual(jOut, out, "journald's export tells the same story")
        // A line in neither format is skipped, and said so (not silently).
        try (d.log() + "garbage that is no log line\n").write(toFile: d.root + "/mixed.log", atomically: true, encoding: .utf8)
        let (mStatus, mOut, mErr) = try runTool(DaemonProcess.binary, ["trace", delivered, "--log", d.root + "/mixed.log"])
        XCTAssertEqual(mStatus, 0, mErr)
        XCTAssertEqual(mOut, out)
        XCTAssertTrue(mErr.contains("1 line(s) were neither JSON nor Sluice's text log; skipped"), mErr)
    }

    /// Issue 20: `sluice trace` reads the text log `make run` prints (`serve --log-format text`).
    func testTraceReadsTheTextLog() throws {
        let d = try DaemonProcess()
        try d.start(arguments: ["--log-format", "text"])
        let (code, text) = try send(d.port(), subject: "text-log")
        XCTAssertEqual(code, 250)
        let id = String(text.split(separator: " ").last!)
        d.waitForOutbox(count: 1)
        XCTAssertTrue(d.waitForLog("removed"))
        XCTAssertEqual(d.stop(), 0)
        XCTAssertFalse(d.log().hasPrefix("{"), "a text log")
        let (status, out, err) = try runTool(DaemonProcess.binary, ["trace", id, "--log", d.logPath])
        XCTAssertEqual(status, 0, err)
        for word in ["connect", "data", "queued", "delivered", "removed", "disconnect"] {
            XCTAssertTrue(out.contains(" \(word) "), "trace lacks \(word):\n\(out)")
        }
        let (jsonStatus, json, _) = try runTool(DaemonProcess.binary, ["trace", id, "--log", d.logPath, "--json"])
        XCTAssertEqual(jsonStatus, 0)
        let first = try XCTUnwrap(json.split(separator: "\n").first)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        XCTAssertNotNil(object["time"])
    }

    func testMetricsHealthAndStatus() throws {
        let d = try DaemonProcess()
        try d.start()
        let admin = d.port("admin")
        XCTAssertEqual(try httpGet(admin, "/healthz").0, 200)
        let ready = try httpGet(admin, "/readyz")
        XCTAssertEqual(ready.0, 200, ready.1)
        func metric(_ text: String, _ prefix: String) -> Double {
            text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        }
        let before = try httpGet(admin, "/metrics").1
        XCTAssertEqual(metric(before, "sluice_messages_accepted_total"), 0)
        for i in 0..<3 { XCTAssertEqual(try send(d.port(), subject: "m\(i)").0, 250) }
        XCTAssertEqual(try send(d.port(), subject: "bad", body: "x\ny\r\n").0, 554)
        d.waitForOutbox(count: 3)
        // The counters move right after the files appear; poll briefly.
        var after = try httpGet(admin, "/metrics").1
        let deadline = Date().addingTimeInterval(10)
        while (metric(after, "sluice_delivery_attempts_total") < 3 || !after.contains("sluice_queue_depth 0")) && Date() < deadline {
            usleep(50_000)
            after = try httpGet(admin, "/metrics").1
        }
        XCTAssertEqual(metric(after, "sluice_messages_accepted_total{listener=\"relay\"}"), 3, after)
        XCTAssertEqual(metric(after, "sluice_connections_total{listener=\"relay\"}"), 4, after)
        XCTAssertEqual(metric(after, "sluice_rejections_total{"), 1, after)
        XCTAssertTrue(after.contains("status=\"5.6.0\""), after)
        // Counted in the stage it happened in: end of DATA, not "command" (issue 20).
        let rejection = try XCTUnwrap(after.split(separator: "\n").first { $0.hasPrefix("sluice_rejections_total{") }, after)
        XCTAssertTrue(rejection.contains("stage=\"data\"") && rejection.contains("listener=\"relay\""), String(rejection))
        XCTAssertEqual(metric(after, "sluice_delivery_attempts_total{outcome=\"delivered\",target=\"store\"}") + metric(after, "sluice_delivery_attempts_total{target=\"store\",outcome=\"delivered\"}"), 3, after)
        XCTAssertTrue(after.contains("sluice_queue_depth 0"), after)
        XCTAssertTrue(after.contains("sluice_delivery_latency_seconds_bucket"), after)

        let (status, out, err) = try d.cli(["status", "--json"])
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(json["ready"] as? Bool, true)
        XCTAssertEqual((json["queue"] as? [String: Any])?["depth"] as? Int, 0)
        // What the daemon holds in memory (issue 33): its resident set, and the queue manager's active set and schedule.
        let memory = try XCTUnwrap(json["memory"] as? [String: Any], out)
        XCTAssertGreaterThan(memory["resident_bytes"] as? Int ?? 0, 1 << 20)
        XCTAssertEqual(memory["queue_active"] as? Int, 0)
        XCTAssertEqual(memory["queue_scheduled"] as? Int, 0)
        XCTAssertEqual((json["listeners"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.sorted(), ["relay", "smtps"])
        let (tableStatus, table, _) = try d.cli(["status"])
        XCTAssertEqual(tableStatus, 0)
        XCTAssertTrue(table.contains("ready") && table.contains("relay"), table)
        XCTAssertTrue(table.contains("MiB resident"), table)
    }

    func testReloadAppliesNewPolicyAndRefusesBrokenFile() throws {
        let base = """
            networks: { trusted: [192.0.2.0/24] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
            """
        let d = try DaemonProcess(yaml: base + "\nlocal_domains: [a.test]")
        try d.start()
        func rcpt(_ address: String) throws -> Int {
            let c = try TestSMTPClient(port: d.port())
            _ = try c.reply()
            _ = try c.command("EHLO reload.test")
            _ = try c.command("MAIL FROM:<x@outside.test>")
            return try c.command("RCPT TO:<\(address)>").code
        }
        XCTAssertEqual(try rcpt("u@a.test"), 250)
        XCTAssertEqual(try rcpt("u@b.test"), 550)
        let config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "local_domains: [a.test]", with: "local_domains: [a.test, b.test]")
            .write(toFile: d.configPath, atomically: true, encoding: .utf8)
        let (status, _, err) = try d.cli(["reload"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload\""), d.log())
        XCTAssertEqual(try rcpt("u@b.test"), 250)
        // A broken file: refused with its position; the running configuration stays.
        try (config + "\nlocal_domains: [c.test]\nbogus_key: 1\n").write(toFile: d.configPath, atomically: true, encoding: .utf8)
        kill(d.process!.processIdentifier, SIGHUP)
        XCTAssertTrue(d.waitForLog("\"event\":\"reload_failed\""), d.log())
        XCTAssertTrue(d.log().contains("sluice.yaml:"), d.log())
        XCTAssertEqual(try rcpt("u@b.test"), 250)
        XCTAssertEqual(try rcpt("u@c.test"), 550)
        // `sluice reload` itself refuses a broken file before signalling.
        let (badStatus, _, badErr) = try d.cli(["reload"])
        XCTAssertEqual(badStatus, 1)
        XCTAssertTrue(badErr.contains("bogus_key"), badErr)
    }

    func testSIGTERMDrainsSessionsAndLosesNothingAcknowledged() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
            """)
        try d.start()
        let port = d.port()
        let lock = NSLock()
        nonisolated(unsafe) var acknowledged: [String] = []
        nonisolated(unsafe) var cutMidData = 0
        let group = DispatchGroup()
        for session in 0..<20 {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                guard let c = try? TestSMTPClient(port: port), (try? c.reply())?.code == 220,
                    (try? c.command("EHLO load.test"))?.code == 250
                else { return }
                for n in 0..<10_000 {
                    let id = "s\(session)-\(n)"
                    guard (try? c.command("MAIL FROM:<a@example.test>"))?.code == 250,
                        (try? c.command("RCPT TO:<b@example.org>"))?.code == 250,
                        (try? c.command("DATA"))?.code == 354
                    else { return }
                    do {
                        try c.write("Message-ID: <\(id)@load.test>\r\nSubject: load\r\n\r\n\(String(repeating: "x", count: 2000))\r\n.\r\n")
                        let r = try c.reply()
                        if r.code == 250 {
                            lock.lock()
                            acknowledged.append(id)
                            lock.unlock()
                        } else if r.code != 421 {
                            return
                        }
                    } catch {
                        lock.lock()
                        cutMidData += 1
                        lock.unlock()
                        return
                    }
                }
            }
        }
        // Let the load run until a good number of messages were acknowledged.
        let loadDeadline = Date().addingTimeInterval(30)
        while Date() < loadDeadline {
            lock.lock()
            let n = acknowledged.count
            lock.unlock()
            if n >= 100 { break }
            usleep(50_000)
        }
        d.process!.terminate()
        group.wait()
        d.process!.waitUntilExit()
        XCTAssertEqual(d.process!.terminationStatus, 0)
        XCTAssertEqual(cutMidData, 0, "sessions cut in the middle of DATA")
        XCTAssertGreaterThan(acknowledged.count, 20)
        try d.start()
        let files = d.waitForOutbox(count: acknowledged.count, timeout: 60)
        let delivered = Set(files.compactMap { data -> String? in
            let text = String(decoding: data, as: UTF8.self)
            guard let r = text.range(of: "Message-ID: <") else { return nil }
            return String(text[r.upperBound...].prefix { $0 != "@" })
        })
        let missing = acknowledged.filter { !delivered.contains($0) }
        XCTAssertEqual(missing, [], "acknowledged but not delivered")
        print("graceful shutdown: \(acknowledged.count) acknowledged, \(delivered.count) delivered, \(files.count - delivered.count) duplicates")
    }

    func testSystemdUnitVerifies() throws {
        guard let analyze = which("systemd-analyze") else { throw XCTSkip("systemd-analyze not installed") }
        let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../systemd/sluice.service").standardizedFileURL.path
        let text = try String(contentsOfFile: unit, encoding: .utf8).replacingOccurrences(of: "/usr/local/bin/sluice", with: DaemonProcess.binary)
        let dir = NSTemporaryDirectory() + "sluice-unit-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try text.write(toFile: dir + "/sluice.service", atomically: true, encoding: .utf8)
        let (status, out, err) = try runTool(analyze, ["verify", dir + "/sluice.service"])
        XCTAssertEqual(status, 0, out + err)
        XCTAssertTrue(text.contains("Type=notify"))
        let (_, security, _) = try runTool(analyze, ["security", "--offline=true", dir + "/sluice.service"])
        let exposure = security.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? "?"
        print("systemd-analyze security: \(exposure)")
        XCTAssertTrue(exposure.contains(" OK") || exposure.contains(" MEDIUM"), String(exposure))
    }
}

/// GET on the admin listener: (status, body).
func httpGet(_ port: Int, _ path: String) throws -> (Int, String) {
    let c = try TestSMTPClient(port: port)
    try c.write("GET \(path) HTTP/1.0\r\n\r\n")
    var lines: [String] = []
    while let line = c.readLine() { lines.append(line) }
    let code = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = lines.drop { !$0.isEmpty }.dropFirst().joined(separator: "\n")
    return (code, body)
}

extension OperationsTests {
    /// Issue 20: `trace` takes --config like every command that reads state. With it and no --log, the daemon
    /// of that configuration is found; one that systemd does not run gets a clear answer, not a guess.
    func testTraceTakesConfigAndFindsTheDaemon() throws {
        let d = try DaemonProcess()
        try d.start()
        let (code, text) = try send(d.port(), subject: "trace-config")
        XCTAssertEqual(code, 250)
        let id = String(text.split(separator: " ").last!)
        XCTAssertTrue(d.waitForLog("removed"))
        var (status, out, err) = try d.cli(["trace", id, "--log", d.logPath])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains(" queued "), out)
        (status, out, err) = try d.cli(["trace", id])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("is not a systemd service") && err.contains("--log FILE"), err)
        XCTAssertEqual(d.stop(), 0)
        (status, out, err) = try d.cli(["trace", id])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("no running daemon"), err)
    }
}
