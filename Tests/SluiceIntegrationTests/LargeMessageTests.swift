// A 200 MB message streams through to the outbox while the daemon's memory
// stays flat: DATA is spooled to disk, never held whole in RAM.

import Foundation
import XCTest

final class LargeMessageTests: XCTestCase {
    func testTwoHundredMegabyteMessageWithFlatRSS() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, max_message_size: 300MB, data_timeout: 5m }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port(), timeout: 300)
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        _ = try c.command("MAIL FROM:<a@example.test> SIZE=209715200")
        _ = try c.command("RCPT TO:<b@example.org>")
        XCTAssertEqual(try c.command("DATA").code, 354)
        let baseline = d.rssKiB()
        try c.write("Subject: big\r\n\r\n")
        let line = Array((String(repeating: "0123456789abcdef", count: 4) + "0123456789ab\r\n").utf8)  // 78 bytes
        var block: [UInt8] = []
        for _ in 0..<(1 << 20) / line.count { block += line }
        var sent = 0
        var peak = baseline
        let target = 200 << 20
        var i = 0
        while sent < target {
            try c.write(block)
            sent += block.count
            i += 1
            if i % 16 == 0 { peak = max(peak, d.rssKiB()) }
        }
        try c.write(".\r\n")
        let r = try c.reply()
        XCTAssertEqual(r.code, 250, r.text)
        peak = max(peak, d.rssKiB())
        print("large message: sent \(sent >> 20) MiB, RSS baseline \(baseline / 1024) MiB, peak \(peak / 1024) MiB")
        XCTAssertLessThan(peak - baseline, 64 * 1024, "RSS grew by \((peak - baseline) / 1024) MiB")
        let id = String(r.text.split(separator: " ").last!)
        let path = "\(d.outbox)/\(id).eml"
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(50_000) }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, sent)
    }
}
