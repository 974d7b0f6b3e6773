// A full disk is a normal condition, not a crash (R-CORE-3). The data
// directory is a small tmpfs the test mounts (root only; CI runs as root) and
// the next hop defers everything: 1 MiB messages fill it. Below
// queue.min_free new transactions get 452 4.3.1 at MAIL; with the floor at
// zero, a spool write that runs out of space gets 452 4.3.1 at end of data and
// leaves no partial file. The daemon stays up, every message that got 250 is
// delivered once the next hop accepts, and new mail is accepted again after
// the queue drains.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class DiskFullTests: XCTestCase {
    func testAFullDiskRefusesWith452AndLosesNothing() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a tmpfs needs root (CI runs as root)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let port = freeLoopbackPort()
        let deferring = try QueueConcurrencyTests.deferringUpstream(port: port, delay: 0)
        defer { if deferring.isRunning { deferring.terminate() } }

        let config = { (minFree: String) in """
            upstreams:
              next: { hosts: ["127.0.0.1:\(port)"], tls: none }
            delivery: { retry_schedule: [1s], max_delivery_time: 1h }
            queue: { min_free: \(minFree) }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """ }
        let d = try DaemonProcess(yaml: config("8MiB"))
        let dataDir = d.root + "/var"
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let (mounted, _, mountErr) = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=40m", "tmpfs", dataDir])
        guard mounted == 0 else { throw XCTSkip("cannot mount a tmpfs here: \(mountErr)") }
        defer { _ = try? runTool("/bin/umount", ["-l", dataDir]) }
        try d.writeRules("rules:\n  - { name: all, then: [ { relay: next } ] }\n")
        try d.start()
        defer { _ = d.stop() }

        let megabyte = String(repeating: String(repeating: "x", count: 1023) + "\n", count: 1024).replacingOccurrences(of: "\n", with: "\r\n")
        var accepted: [String] = []
        var refusals: [Int] = []
        /// One transaction; the code of the first refusal (MAIL or end of data), or 250.
        func send(_ n: Int) throws -> Int {
            let c = try TestSMTPClient(port: d.port())
            XCTAssertEqual(try c.reply().code, 220)
            _ = try c.command("EHLO fill.test")
            let mail = try c.command("MAIL FROM:<a@example.test>")
            guard mail.code == 250 else { return mail.code }
            XCTAssertEqual(try c.command("RCPT TO:<b@example.org>").code, 250)
            XCTAssertEqual(try c.command("DATA").code, 354)
            try c.write("From: a@example.test\r\nTo: b@example.org\r\nSubject: fill \(n)\r\nMessage-ID: <fill-\(n)@test>\r\n\r\n" + megabyte + ".\r\n")
            let end = try c.reply().code
            if end == 250 { accepted.append("<fill-\(n)@test>") }
            _ = try? c.command("QUIT")
            return end
        }

        // 1. Below min_free: 452 at MAIL.
        var n = 0
        while n < 60 {
            n += 1
            let code = try send(n)
            if code != 250 {
                refusals.append(code)
                break
            }
        }
        XCTAssertEqual(refusals, [452], "the first refusal is a 452")
        XCTAssertGreaterThan(accepted.count, 10)
        XCTAssertTrue(d.log().contains("Insufficient system storage"), d.log())

        // 2. No floor: the disk itself runs out during DATA; the answer is still 452, and no spool is left behind.
        try ("hostname: mx.sluice.test\ndata_dir: var\nadmin: { address: \"127.0.0.1:0\" }\n" + config("0B")).write(
            toFile: d.configPath, atomically: true, encoding: .utf8)
        XCTAssertEqual(try d.cli(["reload"]).0, 0)
        var endOfData: [Int] = []
        while n < 100 && endOfData.isEmpty {
            n += 1
            let code = try send(n)
            if code != 250 { endOfData.append(code) }
        }
        XCTAssertEqual(endOfData, [452], d.log())
        // The 452 does not wait for the spool's removal (it runs on the file pool): poll for it, bounded.
        func spools() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: d.queueDir + "/tmp")) ?? ["unreadable"]).filter { !$0.contains(".state.") }
        }
        XCTAssertTrue(waitUntil { spools().isEmpty }, "spools left behind: \(spools())")
        XCTAssertTrue(d.process?.isRunning ?? false, "the daemon stays up")

        // 3. The next hop accepts: everything that got a 250 arrives, and new mail is accepted again.
        deferring.terminate()
        deferring.waitUntilExit()
        let sink = try sinkDaemon(port: port)
        try sink.start()
        defer { _ = sink.stop() }
        XCTAssertTrue(waitUntil(120) { Set(messageIDs([sink])).isSuperset(of: accepted) },
            "delivered \(Set(messageIDs([sink])).intersection(accepted).count) of \(accepted.count)")
        XCTAssertTrue(waitUntil(30) { (try? FileManager.default.contentsOfDirectory(atPath: d.queueDir + "/active"))?.isEmpty ?? false })
        XCTAssertEqual(try send(1000), 250)
    }
}
