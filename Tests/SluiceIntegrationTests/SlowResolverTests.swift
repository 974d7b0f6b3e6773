// Work separated by kind: SPF's C library waits for DNS on the calling thread,
// so with one shared pool a resolver that does not answer held the threads
// that write and fsync the queue, and every 250 waited for DNS timeouts. Here
// 20 messages on a verifying listener are stuck in SPF lookups against a
// nameserver that never answers, while a message on a plain listener is
// queued: its 250 comes before any of the stuck ones has been verified.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A nameserver that never answers: a UDP socket nobody reads and a TCP socket nobody accepts on, same port.
final class SilentNameserver {
    let port: Int
    private let udp: Int32
    private let tcp: Int32

    init() throws {
        for _ in 0..<20 {
            let u = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let t = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(freeLoopbackPort()).bigEndian)
            let bound = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                    bind(u, a, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && bind(t, a, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if bound && listen(t, 64) == 0 {
                udp = u
                tcp = t
                port = Int(UInt16(bigEndian: addr.sin_port))
                return
            }
            close(u)
            close(t)
        }
        throw XCTSkip("no free port pair for the silent nameserver")
    }

    deinit {
        close(udp)
        close(tcp)
    }
}

final class SlowResolverTests: XCTestCase {
    func testASilentResolverDoesNotDelayOtherMail() throws {
        let dns = try SilentNameserver()
        let d = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 3s }
            local_domains: [example.org]
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, verify: [spf], rules: default }
              - { name: relay, address: "127.0.0.1:0", tls: none, verify: [], rules: default }
            """)
        try d.writeRules("rules:\n  - { name: all, then: [ { store: var/outbox } ] }\n")
        try d.start()
        defer { _ = d.stop() }

        // 20 messages whose SPF lookups will wait for the DNS timeout: more than the old shared pool's 16 threads.
        var stuck: [TestSMTPClient] = []
        for i in 0..<20 {
            let c = try TestSMTPClient(port: d.port("mx"))
            XCTAssertEqual(try c.reply().code, 220)
            try c.beginTransaction(helo: "slow.test", from: "a@sender\(i).test", to: ["u@example.org"])
            try c.write("Subject: stuck \(i)\r\n\r\nwaiting for DNS\r\n.\r\n")
            stuck.append(c)
        }
        XCTAssertTrue(waitUntil { d.log().components(separatedBy: "\"event\":\"data\"").count - 1 >= 20 }, d.log())

        // Meanwhile a message on the plain listener is queued at once.
        let r = try TestSMTPClient.sendMessage(
            port: d.port("relay"), from: "a@example.test", to: "b@example.org",
            message: "Subject: not waiting\r\nMessage-ID: <fast@test>\r\n\r\nhi\r\n")
        XCTAssertEqual(r.code, 250)
        let log = d.log()
        XCTAssertFalse(log.contains("\"event\":\"verify\""), "a stuck message was verified before the plain one was queued:\n\(log)")
        XCTAssertEqual(log.components(separatedBy: "\"event\":\"queued\"").count - 1, 1, log)

        // The stuck ones are answered too once their lookups time out (spf=temperror is a verdict, not a refusal).
        for c in stuck { XCTAssertEqual(try c.reply().code, 250) }
    }
}
