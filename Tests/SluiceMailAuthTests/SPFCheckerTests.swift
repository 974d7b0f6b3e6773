// SPF through libspf2 with every lookup answered by the local fixture DNS
// server via the resolver component: each result, include:, redirect=, the
// 10-lookup limit, the void-lookup limit, DNS trouble and the HELO identity;
// and loopback clients evaluated like any other (libspf2 alone passes them).

import SluiceCore
import SluiceDNS
import SluiceTestSupport
import XCTest

@testable import SluiceMailAuth

final class SPFCheckerTests: XCTestCase {
    static let zone: String = {
        var z = """
            $ORIGIN test.
            $TTL 60
            pass.test.    IN TXT "v=spf1 ip4:198.51.100.1 ip6:2001:db8::/32 -all"
            soft.test.    IN TXT "v=spf1 ~all"
            neutral.test. IN TXT "v=spf1 ?all"
            none.test.    IN A 127.0.0.1
            incl.test.    IN TXT "v=spf1 include:pass.test -all"
            redir.test.   IN TXT "v=spf1 redirect=pass.test"
            mx.test.      IN TXT "v=spf1 mx -all"
            mx.test.      IN MX 10 mail.mx.test.
            mail.mx.test. IN A 198.51.100.7
            bad.test.     IN TXT "v=spf1 frobnicate:x -all"
            void3.test.   IN TXT "v=spf1 a:nx1.void.test a:nx2.void.test a:nx3.void.test -all"
            void2.test.   IN TXT "v=spf1 a:nx1.void.test a:nx2.void.test -all"
            twice.test.   IN TXT "v=spf1 -all"
            local.test.   IN TXT "v=spf1 ip4:127.0.0.5 ip6:::1 -all"
            twice.test.   IN TXT "v=spf1 +all"

            """
        // Eleven includes: the eleventh lookup is over the limit of ten.
        z += "limit.test. IN TXT \"v=spf1 " + (1...11).map { "include:l\($0).test" }.joined(separator: " ") + " -all\"\n"
        for i in 1...11 { z += "l\(i).test. IN TXT \"v=spf1 -all\"\n" }
        return z
    }()

    var dns: FixtureDNSServer!
    var checker: SPFChecker!

    override func setUpWithError() throws {
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        let resolver = try UnboundResolver(nameserver: .address("127.0.0.1", port: dns.port), timeout: 2)
        checker = SPFChecker(resolver: resolver, hostname: "mx.sluice.test")
    }

    override func tearDown() { dns?.stop() }

    func verdict(_ ip: String, _ domain: String) -> SPFResult.Verdict {
        checker.check(clientIP: ip, helo: "client.example", sender: MailAddress(localPart: "a", domain: domain)).verdict
    }

    func testResults() {
        // A loopback client gets the record's verdict, not libspf2's "localhost" pass.
        XCTAssertEqual(verdict("127.0.0.1", "soft.test"), .softfail)
        XCTAssertEqual(verdict("198.51.100.1", "pass.test"), .pass)
        XCTAssertEqual(verdict("2001:db8::5", "pass.test"), .pass)
        XCTAssertEqual(verdict("192.0.2.9", "pass.test"), .fail)
        XCTAssertEqual(verdict("192.0.2.9", "soft.test"), .softfail)
        XCTAssertEqual(verdict("192.0.2.9", "neutral.test"), .neutral)
        XCTAssertEqual(verdict("192.0.2.9", "none.test"), .none)
        XCTAssertEqual(verdict("192.0.2.9", "nowhere.test"), .none)
        XCTAssertEqual(verdict("198.51.100.7", "mx.test"), .pass)
        XCTAssertEqual(verdict("198.51.100.1", "mx.test"), .fail)
    }

    func testIncludeAndRedirect() {
        XCTAssertEqual(verdict("198.51.100.1", "incl.test"), .pass)
        XCTAssertEqual(verdict("192.0.2.9", "incl.test"), .fail)
        XCTAssertEqual(verdict("198.51.100.1", "redir.test"), .pass)
        XCTAssertEqual(verdict("192.0.2.9", "redir.test"), .fail)
    }

    func testErrors() {
        XCTAssertEqual(verdict("198.51.100.1", "bad.test"), .permerror)
        XCTAssertEqual(verdict("198.51.100.1", "twice.test"), .permerror, "two SPF records are a permerror")
        XCTAssertEqual(verdict("198.51.100.1", "limit.test"), .permerror, "more than 10 DNS-querying terms")
        XCTAssertEqual(verdict("198.51.100.1", "void3.test"), .permerror, "more than 2 void lookups")
        XCTAssertEqual(verdict("198.51.100.1", "void2.test"), .fail, "two void lookups are allowed")
        XCTAssertEqual(verdict("198.51.100.1", "x.servfail.test"), .temperror)
    }

    func testNullSenderChecksTheHELOName() {
        let r = checker.check(clientIP: "198.51.100.1", helo: "pass.test", sender: nil)
        XCTAssertEqual(r.verdict, .pass)
        XCTAssertEqual(r.scope, "helo")
        XCTAssertEqual(r.identity, "pass.test")
    }

    /// libspf2 answers pass for 127.0.0.0/8 and ::1 before reading the record; Sluice evaluates them.
    func testLoopbackClientsAreEvaluatedAgainstTheRecord() {
        for ip in ["127.0.0.1", "::1"] {
            let r = checker.check(clientIP: ip, helo: "h.test", sender: MailAddress(localPart: "x", domain: "l1.test"))
            XCTAssertEqual(r.verdict, .fail, "\(ip): \(r)")
        }
        XCTAssertEqual(checker.check(clientIP: "127.0.0.5", helo: "h", sender: MailAddress(localPart: "a", domain: "local.test")).verdict, .pass)
        XCTAssertEqual(checker.check(clientIP: "::1", helo: "h", sender: MailAddress(localPart: "a", domain: "local.test")).verdict, .pass)
        XCTAssertEqual(checker.check(clientIP: "127.0.0.1", helo: "h", sender: MailAddress(localPart: "a", domain: "local.test")).verdict, .fail)
        XCTAssertEqual(checker.check(clientIP: "127.0.0.1", helo: "h", sender: MailAddress(localPart: "a", domain: "none.test")).verdict, .none)
    }
}
