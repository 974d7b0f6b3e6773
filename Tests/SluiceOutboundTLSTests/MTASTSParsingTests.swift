// The MTA-STS TXT record and policy file as RFC 8461 §3.1 and §3.2 define
// them, and the MX patterns of a policy (§4.1).

import SluiceCore
import XCTest

@testable import SluiceOutboundTLS

final class MTASTSParsingTests: XCTestCase {
    func testRecord() {
        XCTAssertEqual(MTASTSRecord.lookup(["v=STSv1; id=20160831085700Z;"]), .record(MTASTSRecord(id: "20160831085700Z")))
        XCTAssertEqual(MTASTSRecord.lookup(["v=spf1 -all", "v=STSv1;id=abc"]), .record(MTASTSRecord(id: "abc")))
        XCTAssertEqual(MTASTSRecord.lookup(["v=STSv1; ext=1; id=x1"]), .record(MTASTSRecord(id: "x1")))
        // Two records, none, a bad id, no id: as if the domain published nothing.
        if case .record = MTASTSRecord.lookup(["v=STSv1; id=a", "v=STSv1; id=b"]) { XCTFail("two records are none") }
        if case .record = MTASTSRecord.lookup([]) { XCTFail() }
        if case .record = MTASTSRecord.lookup(["v=STSv1; id=has-dash"]) { XCTFail("id is letters and digits") }
        if case .record = MTASTSRecord.lookup(["v=STSv1; id=" + String(repeating: "a", count: 33)]) { XCTFail("id is at most 32") }
        if case .record = MTASTSRecord.lookup(["v=STSv1;"]) { XCTFail("no id") }
        if case .record = MTASTSRecord.lookup(["id=a; v=STSv1"]) { XCTFail("v comes first") }
    }

    func testPolicy() throws {
        let p = try MTASTSPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
        XCTAssertEqual(p, MTASTSPolicy(mode: .enforce, maxAge: 604800, mx: ["mail.example.com", "*.example.net"]))
        XCTAssertEqual(p.decision, DomainTLSPolicy(mode: .verify, mxPatterns: ["mail.example.com", "*.example.net"], source: "mta-sts enforce"))
        // LF line ends, unknown keys ignored, max_age capped at a year, testing delivers and reports.
        let t = try MTASTSPolicy.parse("version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 99999999\nfoo: bar\n")
        XCTAssertEqual(t.maxAge, MTASTSPolicy.maxAgeLimit)
        XCTAssertEqual(t.decision?.testing, true)
        XCTAssertNil(try MTASTSPolicy.parse("version: STSv1\nmode: none\nmax_age: 86400\n").decision)
    }

    func testBadPolicies() {
        let bad = [
            "mode: enforce\nmx: a.example\nmax_age: 1\n",  // no version
            "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
            "version: STSv1\nmode: enforcing\nmx: a.example\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmax_age: 1\n",  // enforce without mx
            "version: STSv1\nmode: enforce\nmx: a.example\n",  // no max_age
            "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5\n",
            "version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n",
            "<html>not a policy</html>",
        ]
        for text in bad {
            XCTAssertThrowsError(try MTASTSPolicy.parse(text), text)
        }
    }

    func testMXPatterns() {
        let p = DomainTLSPolicy(mode: .verify, mxPatterns: ["mail.example.com", "*.example.net"], source: "mta-sts enforce")
        XCTAssertTrue(p.allows(mxHost: "mail.example.com"))
        XCTAssertTrue(p.allows(mxHost: "MAIL.example.com."))
        XCTAssertTrue(p.allows(mxHost: "mx1.example.net"))
        XCTAssertFalse(p.allows(mxHost: "example.net"), "a wildcard needs a label")
        XCTAssertFalse(p.allows(mxHost: "a.b.example.net"), "a wildcard is one label")
        XCTAssertFalse(p.allows(mxHost: "evil-example.net"))
        XCTAssertFalse(p.allows(mxHost: "mail.example.com.evil.test"))
        XCTAssertTrue(DomainTLSPolicy(mode: .may, source: "default").allows(mxHost: "anything.test"))
    }
}
