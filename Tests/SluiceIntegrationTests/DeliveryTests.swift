// End to end: the real daemon accepts over SMTP and the message lands in the
// outbox byte for byte, behind the Received header it prepended.

import Foundation
import XCTest

final class DeliveryTests: XCTestCase {
    /// Splits a delivered file into (Received header block, the rest).
    func splitReceived(_ data: Data) -> (String, Data) {
        let bytes = [UInt8](data)
        // The Received header is the first field; it ends at the first CRLF not followed by a tab.
        var i = 0
        while i + 2 < bytes.count {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] != 9 { break }
            i += 1
        }
        return (String(decoding: bytes[..<(i + 2)], as: UTF8.self), Data(bytes[(i + 2)...]))
    }

    func transact(_ c: TestSMTPClient, from: String, to: [String], data: String, mailParams: String = "") throws -> String {
        XCTAssertEqual(try c.command("MAIL FROM:<\(from)>\(mailParams)").code, 250)
        for r in to { XCTAssertEqual(try c.command("RCPT TO:<\(r)>").code, 250) }
        XCTAssertEqual(try c.command("DATA").code, 354)
        try c.write(data + ".\r\n")
        let r = try c.reply()
        XCTAssertEqual(r.code, 250, r.text)
        XCTAssertTrue(r.text.hasPrefix("2.0.0 Ok: queued as "), r.text)
        return String(r.text.split(separator: " ").last!)
    }

    func testPlain8BitAndMultiRecipientMessagesArriveIdentical() throws {
        let d = try DaemonProcess()
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        XCTAssertEqual(try c.reply().code, 220)
        let ehlo = try c.command("EHLO client.test")
        XCTAssertEqual(ehlo.code, 250)
        XCTAssertTrue(ehlo.lines.contains { $0.hasSuffix("STARTTLS") })
        let plain = "From: a@example.test\r\nTo: b@example.org\r\nSubject: plain\r\nMessage-ID: <1@test>\r\n\r\nHello.\r\n..dot-stuffed line\r\n"
        let eight = "From: a@example.test\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, naïve café\r\n"
        let id1 = try transact(c, from: "a@example.test", to: ["b@example.org"], data: plain)
        let id2 = try transact(c, from: "a@example.test", to: ["b@example.org", "c@example.net", "d@example.com"], data: eight, mailParams: " BODY=8BITMIME")
        XCTAssertEqual(try c.command("QUIT").code, 221)
        d.waitForOutbox(count: 2)
        let f1 = try XCTUnwrap(FileManager.default.contents(atPath: "\(d.outbox)/\(id1).eml"))
        let (received1, rest1) = splitReceived(f1)
        XCTAssertEqual(String(decoding: rest1, as: UTF8.self), plain.replacingOccurrences(of: "\r\n..dot", with: "\r\n.dot"))
        XCTAssertTrue(received1.hasPrefix("Received: from client.test (unknown [127.0.0.1])"), received1)
        XCTAssertTrue(received1.contains("by mx.sluice.test (Sluice) with ESMTP id \(id1)"), received1)
        XCTAssertTrue(received1.contains("for <b@example.org>"), received1)
        let f2 = try XCTUnwrap(FileManager.default.contents(atPath: "\(d.outbox)/\(id2).eml"))
        XCTAssertEqual(splitReceived(f2).1, Data(eight.utf8))
        XCTAssertEqual(d.stop(), 0)
        XCTAssertTrue(d.log().contains("\"queue_id\":\"\(id1)\""))
    }

    func testSMTPUTF8Message() throws {
        let d = try DaemonProcess()
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        let body = "From: jöe@bücher.example\r\nTo: 用户@例子.测试\r\nSubject: ünïcode\r\n\r\n日本語のテキスト\r\n"
        let id = try transact(c, from: "jöe@bücher.example", to: ["用户@例子.测试"], data: body, mailParams: " SMTPUTF8 BODY=8BITMIME")
        let files = d.waitForOutbox(count: 1)
        let (received, rest) = splitReceived(files[0])
        XCTAssertEqual(rest, Data(body.utf8))
        XCTAssertTrue(received.contains("with UTF8SMTP id \(id)"), received)
    }

    func testBDATChunking() throws {
        let d = try DaemonProcess()
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        let part1 = "Subject: chunks\r\n\r\n"
        let part2 = "first\r\nsecond\r\n.\r\n"
        try c.write("MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nBDAT \(part1.utf8.count)\r\n\(part1)")
        XCTAssertEqual(try c.reply().code, 250)
        XCTAssertEqual(try c.reply().code, 250)
        XCTAssertEqual(try c.reply().code, 250)
        try c.write("BDAT \(part2.utf8.count) LAST\r\n\(part2)")
        XCTAssertTrue(try c.reply().text.contains("queued as"))
        let files = d.waitForOutbox(count: 1)
        // With BDAT nothing is unstuffed: a lone "." line is content.
        XCTAssertEqual(splitReceived(files[0]).1, Data((part1 + part2).utf8))
    }

    func testSizeLimitsAndLongLines() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, max_message_size: 10KB }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        XCTAssertTrue(try c.command("EHLO client.test").lines.contains("250-SIZE 10240"))
        XCTAssertEqual(try c.command("MAIL FROM:<a@example.test> SIZE=20000").text.prefix(5), "5.3.4")
        XCTAssertEqual(try c.command("NOOP " + String(repeating: "x", count: 4000)).code, 500)
        XCTAssertEqual(try c.command("MAIL FROM:<a@example.test>").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<b@example.org>").code, 250)
        XCTAssertEqual(try c.command("DATA").code, 354)
        try c.write("Subject: big\r\n\r\n" + String(repeating: String(repeating: "y", count: 70) + "\r\n", count: 300) + ".\r\n")
        let r = try c.reply()
        XCTAssertEqual(r.code, 552)
        XCTAssertTrue(r.text.hasPrefix("5.3.4"))
        // The session survives.
        XCTAssertEqual(try c.command("NOOP").code, 250)
        XCTAssertEqual(d.outboxFiles().count, 0)
        // The refused message's spool is thrown away (asynchronously, off the event loop).
        let deadline = Date().addingTimeInterval(10)
        while (try FileManager.default.contentsOfDirectory(atPath: d.queueDir + "/tmp").count) > 0 && Date() < deadline {
            usleep(20_000)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d.queueDir + "/tmp").count, 0)
    }

    func testRelayControlForUntrustedClients() throws {
        // Loopback is deliberately not trusted here, so the test client is an outsider.
        let d = try DaemonProcess(yaml: """
            networks: { trusted: [192.0.2.0/24] }
            local_domains: [local.test]
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO outsider.test")
        XCTAssertEqual(try c.command("MAIL FROM:<x@outsider.test>").code, 250)
        for refused in [
            "victim@other.test", "u%other.test@local.test", "other.test!u@local.test", "\"u@other.test\"@local.test",
            "u@[127.0.0.1]", "u@local.test.evil.test", "@local.test:u@other.test",
        ] {
            let r = try c.command("RCPT TO:<\(refused)>")
            XCTAssertEqual(r.code, 550, refused)
            XCTAssertTrue(r.text.hasPrefix("5.7.1"), refused)
        }
        for accepted in ["u@local.test", "u@LOCAL.TEST", "u@local.test.", "@other.test:u@local.test"] {
            XCTAssertEqual(try c.command("RCPT TO:<\(accepted)>").code, 250, accepted)
        }
    }

    func testRateLimitsAnswer451() throws {
        let d = try DaemonProcess(yaml: """
            policies:
              limited:
                default: allow
                rate_limits:
                  - { per: client_ip, messages: 2, window: 1h }
                  - { per: sender_domain, recipients: 3, window: 1h }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, policy: limited }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO busy.test")
        XCTAssertEqual(try c.command("MAIL FROM:<a@busy.test>").code, 250)
        for i in 0..<3 { XCTAssertEqual(try c.command("RCPT TO:<r\(i)@example.org>").code, 250) }
        let r = try c.command("RCPT TO:<r9@example.org>")
        XCTAssertEqual(r.code, 451)
        XCTAssertTrue(r.text.hasPrefix("4.7.1 Rate limit exceeded (recipients for domain busy.test)"), r.text)
        XCTAssertEqual(try c.command("RSET").code, 250)
        XCTAssertEqual(try c.command("MAIL FROM:<a@other.test>").code, 250)
        XCTAssertEqual(try c.command("RSET").code, 250)
        let m = try c.command("MAIL FROM:<a@other.test>")
        XCTAssertEqual(m.code, 451)
        XCTAssertTrue(m.text.hasPrefix("4.7.1"), m.text)
    }

    func testTrafficPolicyDeniesConnection() throws {
        let d = try DaemonProcess(yaml: """
            policies:
              nobody:
                default: deny
                statements:
                  - { action: allow, when: [ { client_ip: [192.0.2.0/24] } ] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, policy: nobody }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        let r = try c.reply()
        XCTAssertEqual(r.code, 554)
        XCTAssertTrue(r.text.hasPrefix("5.7.1"))
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testSmugglingOverTheWire() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none }
              - { name: lenient, address: "127.0.0.1:0", tls: none, bare_lf: normalize }
            """)
        try d.start()
        for listener in ["relay", "lenient"] {
            let c = try TestSMTPClient(port: d.port(listener))
            _ = try c.reply()
            _ = try c.command("EHLO client.test")
            try c.write("MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
            for _ in 0..<3 { _ = try c.reply() }
            try c.write(
                "Subject: one\r\n\r\nhello\n.\nMAIL FROM:<ceo@victim.test>\r\nRCPT TO:<c@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
            let r = try c.reply()
            XCTAssertEqual(r.code, listener == "relay" ? 554 : 250, r.text)
            // Exactly one reply: the smuggled commands were message content.
            XCTAssertEqual(try c.command("NOOP").code, 250)
        }
        let file = String(decoding: d.waitForOutbox(count: 1)[0], as: UTF8.self)
        // Each transaction is logged as queued before its 250: one reply, one queued message, nothing to wait for.
        XCTAssertEqual(d.log().components(separatedBy: "\"event\":\"queued\"").count - 1, 1, d.log())
        XCTAssertEqual(d.outboxFiles().count, 1)
        XCTAssertTrue(file.contains("Subject: smuggled"))  // as content of the one message
        XCTAssertEqual(file.components(separatedBy: "Received: ").count, 2)
    }

    func testIdleClientTimesOut() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, command_timeout: 1s }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        let r = try c.reply()
        XCTAssertEqual(r.code, 421)
        XCTAssertTrue(r.text.hasPrefix("4.4.2"))
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testSilentClientOnImplicitTLSIsDisconnected() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: smtps, address: "127.0.0.1:0", tls: implicit, command_timeout: 1s }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port("smtps"), timeout: 10)
        let started = Date()
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertLessThan(Date().timeIntervalSince(started), 9)
    }

    func testPerAddressConnectionLimit() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, max_connections_per_ip: 2 }
            """)
        try d.start()
        let a = try TestSMTPClient(port: d.port())
        let b = try TestSMTPClient(port: d.port())
        XCTAssertEqual(try a.reply().code, 220)
        XCTAssertEqual(try b.reply().code, 220)
        let c = try TestSMTPClient(port: d.port())
        let r = try c.reply()
        XCTAssertEqual(r.code, 421)
        XCTAssertTrue(r.text.hasPrefix("4.7.0"))
        _ = try a.command("QUIT")
        // The slot frees when the server sees the close; allow for a slow machine.
        var greeted = false
        let deadline = Date().addingTimeInterval(10)
        while !greeted && Date() < deadline {
            let e = try TestSMTPClient(port: d.port())
            greeted = (try? e.reply().code) == 220
            if !greeted { usleep(100_000) }
        }
        XCTAssertTrue(greeted)
    }

    func testSTARTTLSRequiredBeforeMail() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: starttls, require_tls: true }
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        let r = try c.command("MAIL FROM:<a@example.test>")
        XCTAssertEqual(r.code, 530)
    }
}

final class ProxyProtocolTests: XCTestCase {
    func testClientBehindLoadBalancer() throws {
        // Loopback is the load balancer; the real clients are elsewhere. Only 192.0.2.0/24 is trusted.
        let d = try DaemonProcess(yaml: """
            networks: { trusted: [192.0.2.0/24] }
            listeners:
              - { name: lb, address: "127.0.0.1:0", tls: none, proxy_protocol: true, proxy_from: [127.0.0.1/32] }
              - { name: lb-other, address: "127.0.0.1:0", tls: none, proxy_protocol: true, proxy_from: [10.9.9.9/32] }
            """)
        try d.start()
        // A trusted client behind the balancer may relay; the Received header names it.
        let c = try TestSMTPClient(port: d.port("lb"))
        try c.write("PROXY TCP4 192.0.2.44 127.0.0.1 40001 25\r\n")
        XCTAssertEqual(try c.reply().code, 220)
        _ = try c.command("EHLO behind.test")
        XCTAssertEqual(try c.command("MAIL FROM:<a@example.test>").code, 250)
        XCTAssertEqual(try c.command("RCPT TO:<b@example.org>").code, 250)
        _ = try c.command("DATA")
        try c.write("Subject: proxied\r\n\r\nhi\r\n.\r\n")
        XCTAssertEqual(try c.reply().code, 250)
        let file = String(decoding: d.waitForOutbox(count: 1)[0], as: UTF8.self)
        XCTAssertTrue(file.contains("(unknown [192.0.2.44])"), file)
        // An untrusted client behind it may not; nor may a direct connection skip the header.
        let u = try TestSMTPClient(port: d.port("lb"))
        try u.write("PROXY TCP4 198.51.100.5 127.0.0.1 40002 25\r\n")
        _ = try u.reply()
        _ = try u.command("EHLO outsider.test")
        _ = try u.command("MAIL FROM:<a@example.test>")
        XCTAssertEqual(try u.command("RCPT TO:<b@example.org>").code, 550)
        let raw = try TestSMTPClient(port: d.port("lb"))
        try raw.write("EHLO sneaky.test\r\n")
        XCTAssertTrue(raw.isClosedByPeer())
        // Connections from addresses outside proxy_from are closed before any byte.
        let outsider = try TestSMTPClient(port: d.port("lb-other"))
        XCTAssertTrue(outsider.isClosedByPeer())
        XCTAssertTrue(d.log().contains("connection from outside proxy_from closed"))
    }
}

extension DeliveryTests {
    /// Two routes of one message into one directory (one recipient's copy gets a header, the other's not)
    /// keep both copies: the store named both QUEUEID.eml and the second overwrote the first.
    func testTwoRoutesIntoOneDirectoryKeepBothCopies() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try d.writeRules("""
            rules:
              - name: mark-legal
                when: [ { recipient: { domain: legal.test } } ]
                then: [ { add_header: { name: X-Copy, value: legal } } ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        try d.start()
        let c = try TestSMTPClient(port: d.port())
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        let id = try transact(c, from: "a@example.test", to: ["x@legal.test", "y@other.test"], data: "Subject: two copies\r\n\r\nbody\r\n")
        let files = d.waitForOutbox(count: 2)
        XCTAssertEqual(files.count, 2, "\(d.outboxFiles())")
        let names = d.outboxFiles()
        XCTAssertTrue(names.contains("\(id).eml"), "\(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix(id) }.count, 2, "\(names)")
        let texts = files.map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(texts.filter { $0.contains("X-Copy: legal\r\n") }.count, 1)
    }
}
