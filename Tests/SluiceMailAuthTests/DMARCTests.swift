// DMARC: organizational domains from the Public Suffix List, record parsing,
// alignment of SPF and DKIM results, p=/sp=/pct, with records from the
// fixture DNS server through the resolver component.

import SluiceCore
import SluiceDNS
import SluiceTestSupport
import XCTest

@testable import SluiceMailAuth

final class DMARCTests: XCTestCase {
    let psl = PublicSuffixList(text: "// test list\ncom\nuk\nco.uk\ntest\n*.ck\n!www.ck\n")

    func testOrganizationalDomains() {
        XCTAssertEqual(psl.organizationalDomain("mail.example.com"), "example.com")
        XCTAssertEqual(psl.organizationalDomain("a.b.example.co.uk"), "example.co.uk")
        XCTAssertEqual(psl.organizationalDomain("x.y.foo.ck"), "y.foo.ck")
        XCTAssertEqual(psl.organizationalDomain("a.www.ck"), "www.ck")
        XCTAssertEqual(psl.organizationalDomain("Example.COM."), "example.com")
        XCTAssertEqual(PublicSuffixList(text: "").organizationalDomain("a.b.example.org"), "example.org")
        if FileManager.default.fileExists(atPath: PublicSuffixList.debianPath) {
            XCTAssertEqual(PublicSuffixList.system().organizationalDomain("news.bbc.co.uk"), "bbc.co.uk")
        }
    }

    func testRecordParsing() {
        let r = DMARCRecord.parse("v=DMARC1; p=reject; sp=quarantine; pct=50; adkim=s; rua=mailto:x@example.test")
        XCTAssertEqual(r, DMARCRecord(policy: .reject, subdomainPolicy: .quarantine, percent: 50, strictDKIM: true, strictSPF: false))
        XCTAssertNil(DMARCRecord.parse("p=reject; v=DMARC1"), "v= must come first")
        XCTAssertNil(DMARCRecord.parse("v=DMARC1; p=bogus"))
        XCTAssertEqual(DMARCRecord.parse("v=DMARC1; p=bogus; rua=mailto:a@b.test")?.policy, DMARCRecord.Policy.none)
        XCTAssertNil(DMARCRecord.parse("v=spf1 -all"))
    }

    static let zone = """
        $ORIGIN test.
        $TTL 60
        _dmarc.strict.test.  IN TXT "v=DMARC1; p=reject; adkim=s; aspf=s"
        _dmarc.relaxed.test. IN TXT "v=DMARC1; p=reject; sp=quarantine; pct=100"
        _dmarc.half.test.    IN TXT "v=DMARC1; p=reject; pct=50"
        _dmarc.none.test.    IN TXT "v=DMARC1; p=none"

        """

    func evaluator() throws -> (DMARCEvaluator, FixtureDNSServer) {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        let resolver = try UnboundResolver(nameserver: .address("127.0.0.1", port: dns.port), timeout: 2)
        return (DMARCEvaluator(resolver: resolver, suffixes: psl), dns)
    }

    func dkim(_ verdict: DKIMResult.Verdict, _ domain: String) -> DKIMResult {
        DKIMResult(verdict: verdict, domain: domain, selector: "s", algorithm: "rsa-sha256", signaturePrefix: "abcdefgh")
    }

    func spf(_ verdict: SPFResult.Verdict, _ domain: String) -> SPFResult {
        SPFResult(verdict: verdict, identity: domain, scope: "mailfrom")
    }

    func testAlignmentAndPolicies() async throws {
        let (e, dns) = try evaluator()
        defer { dns.stop() }
        // Pass through aligned DKIM only, and through aligned SPF only.
        var r = await e.evaluate(fromDomain: "relaxed.test", spf: spf(.fail, "relaxed.test"), dkim: [dkim(.pass, "mail.relaxed.test")])
        XCTAssertEqual(r.verdict, .pass)
        r = await e.evaluate(fromDomain: "relaxed.test", spf: spf(.pass, "bounces.relaxed.test"), dkim: [])
        XCTAssertEqual(r.verdict, .pass)
        // A passing signature of another domain does not align.
        r = await e.evaluate(fromDomain: "relaxed.test", spf: spf(.pass, "other.test"), dkim: [dkim(.pass, "other.test")])
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertEqual(r.disposition, .reject)
        // Strict alignment wants the exact domain.
        r = await e.evaluate(fromDomain: "strict.test", spf: spf(.pass, "sub.strict.test"), dkim: [dkim(.pass, "sub.strict.test")])
        XCTAssertEqual(r.verdict, .fail)
        r = await e.evaluate(fromDomain: "strict.test", spf: nil, dkim: [dkim(.pass, "strict.test")])
        XCTAssertEqual(r.verdict, .pass)
        // A subdomain without its own record gets the organizational domain's sp=.
        r = await e.evaluate(fromDomain: "news.relaxed.test", spf: nil, dkim: [dkim(.fail, "news.relaxed.test")])
        XCTAssertEqual(r.verdict, .fail)
        XCTAssertEqual(r.disposition, .quarantine)
        // pct=50: inside the sample reject, outside it quarantine.
        r = await e.evaluate(fromDomain: "half.test", spf: nil, dkim: [], sample: 10)
        XCTAssertEqual(r.disposition, .reject)
        r = await e.evaluate(fromDomain: "half.test", spf: nil, dkim: [], sample: 70)
        XCTAssertEqual(r.disposition, .quarantine)
        // No record: none. DNS trouble: temperror.
        r = await e.evaluate(fromDomain: "norecord.test", spf: nil, dkim: [])
        XCTAssertEqual(r.verdict, DMARCResult.Verdict.none)
        r = await e.evaluate(fromDomain: "x.servfail.test", spf: nil, dkim: [])
        XCTAssertEqual(r.verdict, .temperror)
    }
}
