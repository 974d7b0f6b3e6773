// DNS block and allow lists (issue 27, RFC 5782) on the fixture DNS server:
// a client listed on a block list (IPv4 127.0.0.1 and IPv6 ::1, asked by
// reversed octets and nibbles) is refused by a rule testing it, with the
// list's reason in the log; an allow list lets its clients past the block
// rule; the list's error code 127.255.255.254 is not a listing; a list that
// answers SERVFAIL counts as "not listed" and is logged; nothing is looked up
// on a listener whose rules do not test a list; a rule naming an unknown
// list, or a list of the other type, fails to load with file:line:column.

import Foundation
import SluiceTestSupport
import XCTest

final class DNSListTests: XCTestCase {
    /// The 31 zero nibbles that follow the last one ("1") of ::1, reversed.
    static let v6 = String(String(repeating: "0.", count: 31).dropLast())
    static let zone = """
        $ORIGIN test.
        $TTL 60
        1.0.0.127.zen          A   127.0.0.2
        1.0.0.127.zen          TXT "Listed by ZEN, see https://zen.test/lookup?ip=127.0.0.1"
        1.\(v6).zen            A   127.0.0.4
        1.0.0.127.goodmail     A   127.0.0.10
        1.0.0.127.errs         A   127.255.255.254
        spam.example.dbl       A   127.0.1.2
        spam.example.dbl       TXT "Domain on the DBL"
        bad-helo.example.dbl   A   127.0.1.2
        """

    func daemon() throws -> (DaemonProcess, FixtureDNSServer) {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: strict, address: "127.0.0.1:0", tls: none, rules: strict }
              - { name: strict6, address: "[::1]:0", tls: none, rules: strict }
              - { name: welcoming, address: "127.0.0.1:0", tls: none, rules: welcoming }
              - { name: broken, address: "127.0.0.1:0", tls: none, rules: broken }
              - { name: plain, address: "127.0.0.1:0", tls: none, rules: plain }
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 2s }
            dnsbl:
              zen: { zone: zen.test, type: block, codes: [127.0.0.2-127.0.0.11] }
              errs: { zone: errs.test }
              down: { zone: bl.servfail.test }
              goodmail: { zone: goodmail.test, type: allow }
            """)
        let deliver = "  - name: deliver\n    then: [ { store: var/outbox } ]\n"
        try d.writeRules("rules:\n  - name: listed\n    when: [ { dnsbl: zen } ]\n    then: [ { reject: { code: 554, status: 5.7.1, message: \"client listed by zen.test\" } } ]\n" + deliver, set: "strict")
        try d.writeRules("rules:\n  - name: known-good\n    when: [ { dnswl: goodmail } ]\n    then: [ { store: var/outbox }, stop ]\n  - name: listed\n    when: [ { dnsbl: zen } ]\n    then: [ { reject: { code: 554, status: 5.7.1, message: \"listed\" } } ]\n" + deliver, set: "welcoming")
        try d.writeRules("rules:\n  - name: listed\n    when: [ { any: [ { dnsbl: errs }, { dnsbl: down } ] } ]\n    then: [ { reject: { code: 554, status: 5.7.1, message: \"listed\" } } ]\n" + deliver, set: "broken")
        try d.writeRules("rules:\n" + deliver, set: "plain")
        return (d, dns)
    }

    func testListedClientsAreRefusedAndBrokenListsListNobody() throws {
        let (d, dns) = try daemon()
        try d.start()
        let message = "Subject: hello\r\n\r\nhi\r\n"
        var r = try TestSMTPClient.sendMessage(port: d.port("strict"), message: message)
        XCTAssertEqual(r.code, 554, "127.0.0.1 is on zen: \(r.text)")
        r = try TestSMTPClient.sendMessage(port: d.port("strict6"), message: message, ipv6: true)
        XCTAssertEqual(r.code, 554, "::1 is on zen (by its nibbles): \(r.text)")
        XCTAssertTrue(d.log().contains("zen=127.0.0.2 client 127.0.0.1 (Listed by ZEN, see https://zen.test/lookup?ip=127.0.0.1)"), "the list's reason is logged: \(d.log())")
        r = try TestSMTPClient.sendMessage(port: d.port("welcoming"), message: message)
        XCTAssertEqual(r.code, 250, "on the allow list too: \(r.text)")
        r = try TestSMTPClient.sendMessage(port: d.port("broken"), message: message)
        XCTAssertEqual(r.code, 250, "an error code and a SERVFAIL are no listing: \(r.text)")
        XCTAssertTrue(d.waitForLog("DNS list unavailable"), d.log())
        XCTAssertTrue(d.log().contains("127.255.255.254"), "the error code is logged")
        let before = dns.queries.count
        r = try TestSMTPClient.sendMessage(port: d.port("plain"), message: message)
        XCTAssertEqual(r.code, 250)
        XCTAssertEqual(dns.queries.count, before, "no lookup where no rule tests a list")
        XCTAssertEqual(d.waitForOutbox(count: 3).count, 3)
    }

    func testAnUnknownListOrOneOfTheOtherTypeFailsToLoad() throws {
        let (d, _) = try daemon()
        try d.writeRules("rules:\n  - name: x\n    when: [ { dnsbl: spamhaus } ]\n    then: [ { store: var/outbox } ]\n", set: "plain")
        var (status, _, err) = try d.cli(["check"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("plain.yaml:3:") && err.contains("no DNS list 'spamhaus'"), err)
        try d.writeRules("rules:\n  - name: x\n    when: [ { dnsbl: goodmail } ]\n    then: [ { store: var/outbox } ]\n", set: "plain")
        (status, _, err) = try d.cli(["check"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("'goodmail' is an allow list: test it with dnswl:"), err)
    }

    /// Traffic policies test the lists too: a listed client is refused when it connects with the list's reason; an
    /// allow statement before the deny lets an allow-listed client in; a domain list is asked about the MAIL FROM
    /// domain and the HELO name, and its deny answers with the statement's own reply at RCPT.
    func testPoliciesDenyWithTheListsReasonAndDomainListsAreAskedAtMail() throws {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        let d = try DaemonProcess(yaml: """
            local_domains: [example.org]
            listeners:
              - { name: blocking, address: "127.0.0.1:0", tls: none, policy: blocking }
              - { name: allowfirst, address: "127.0.0.1:0", tls: none, policy: allowfirst }
              - { name: domains, address: "127.0.0.1:0", tls: none, policy: domains }
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 2s }
            dnsbl:
              zen: { zone: zen.test, codes: [127.0.0.2-127.0.0.11] }
              goodmail: { zone: goodmail.test, type: allow }
              dbl: { zone: dbl.test, query: [sender, helo] }
            policies:
              blocking: { default: allow, statements: [ { action: deny, when: [ { dnsbl: zen } ] } ] }
              allowfirst:
                default: allow
                statements:
                  - { action: allow, when: [ { dnswl: goodmail } ] }
                  - { action: deny, when: [ { dnsbl: zen } ] }
              domains:
                default: allow
                statements:
                  - { action: deny, when: [ { dnsbl: dbl } ], reply: "550 5.7.1 Sender or HELO domain on a block list" }
            """)
        try d.start()
        let refused = try TestSMTPClient(port: d.port("blocking"))
        let greeting = try refused.reply()
        XCTAssertEqual(greeting.code, 554, greeting.text)
        XCTAssertTrue(greeting.text.contains("5.7.1 Access denied: client 127.0.0.1 is listed by zen.test: Listed by ZEN, see https://zen.test/lookup?ip=127.0.0.1"), greeting.text)
        // The same client again: libunbound answers from its cache (TTL 60), no round trip to the list.
        // (The fixture's query log is read as text: two lines written at once may arrive joined.)
        func count(_ query: String) -> Int { dns.queries.joined(separator: "\n").components(separatedBy: query).count - 1 }
        let asked = count("1.0.0.127.zen.test A")
        XCTAssertEqual(try TestSMTPClient(port: d.port("blocking")).reply().code, 554)
        XCTAssertEqual(count("1.0.0.127.zen.test A"), asked, "a cache hit asks nobody: \(dns.queries)")

        let message = "Subject: hello\r\n\r\nhi\r\n"
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port("allowfirst"), message: message).code, 250, d.log())

        func rcpt(helo: String, from: String) throws -> (Int, String) {
            let c = try TestSMTPClient(port: d.port("domains"))
            _ = try c.reply()
            _ = try c.command("EHLO \(helo)")
            XCTAssertEqual(try c.command("MAIL FROM:<\(from)>").code, 250)
            let r = try c.command("RCPT TO:<u@example.org>")
            return (r.code, r.text)
        }
        var (code, text) = try rcpt(helo: "client.test", from: "x@spam.example")
        XCTAssertEqual(code, 550)
        XCTAssertTrue(text.contains("5.7.1 Sender or HELO domain on a block list"), text)
        (code, text) = try rcpt(helo: "bad-helo.example", from: "x@clean.example")
        XCTAssertEqual(code, 550, text)
        (code, text) = try rcpt(helo: "client.test", from: "x@clean.example")
        XCTAssertEqual(code, 250, text)
        XCTAssertTrue(d.log().contains("dbl=127.0.1.2 sender domain spam.example (Domain on the DBL)"), d.log())
        let log = dns.queries.joined(separator: "\n")
        XCTAssertTrue(log.contains("spam.example.dbl.test A"), "\(dns.queries)")
        XCTAssertFalse(log.contains(" example.test.dbl.test A"), "the domain list is asked only where a policy or rule tests it: \(dns.queries)")
    }
}
