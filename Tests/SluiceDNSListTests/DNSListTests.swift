// DNS lists' own logic: the names asked (RFC 5782's examples), which answers
// count as a listing (codes, the 127.255.255.x error codes), and what a
// lookup's failure means (not listed, said why), with a resolver stub.

import SluiceCore
import XCTest

@testable import SluiceConfig
@testable import SluiceDNSList

final class DNSListLogicTests: XCTestCase {
    func testQueryNamesReverseOctetsAndNibbles() {
        XCTAssertEqual(DNSListQuery.name(for: IPAddress("192.0.2.99")!, zone: "bl.example"), "99.2.0.192.bl.example")
        XCTAssertEqual(
            DNSListQuery.name(for: IPAddress("2001:db8:1:2:3:4:567:89ab")!, zone: "ugly.example"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example")
    }

    func testWhichAnswersAreListings() {
        let zen = DNSList(name: "zen", zone: "zen.test", kind: .block, codes: [(127 << 24 | 2)...(127 << 24 | 11)])
        XCTAssertTrue(zen.counts(IPAddress("127.0.0.2")!))
        XCTAssertTrue(zen.counts(IPAddress("127.0.0.11")!))
        XCTAssertFalse(zen.counts(IPAddress("127.0.0.12")!))
        let any = DNSList(name: "any", zone: "any.test", kind: .block, codes: nil)
        XCTAssertTrue(any.counts(IPAddress("127.0.1.5")!))
        XCTAssertFalse(any.counts(IPAddress("127.255.255.254")!), "an error code is no listing")
        XCTAssertFalse(any.counts(IPAddress("10.0.0.2")!), "outside 127/8")
    }

    func testTheSectionIsCheckedWithItsPosition() throws {
        let context = ConfigContext(file: "/e/sluice.yaml", baseDirectory: "/", dataDir: "/var", hostname: "h")
        func section(_ yaml: String) throws -> DNSListSection {
            try DNSListSection(try ConfigNode.root(yaml: yaml, file: "/e/sluice.yaml").mapping(allowed: ["dnsbl"])["dnsbl"], context)
        }
        let ok = try section("dnsbl:\n  zen: { zone: Zen.Test., codes: [127.0.0.2-127.0.0.11, 127.0.0.20] }\n  wl: { zone: wl.test, type: allow }\n")
        XCTAssertEqual(ok.lists["zen"]?.zone, "zen.test")
        XCTAssertEqual(ok.lists["zen"]?.codes?.count, 2)
        XCTAssertEqual(ok.lists["wl"]?.kind, .allow)
        XCTAssertThrowsError(try section("dnsbl:\n  x: { zone: x.test, codes: [10.0.0.1] }\n")) { XCTAssertTrue("\($0)".contains(":2:"), "\($0)") }
        XCTAssertThrowsError(try section("dnsbl:\n  x: { zone: x.test, type: deny }\n")) { XCTAssertTrue("\($0)".contains("block or allow"), "\($0)") }
        XCTAssertThrowsError(try section("dnsbl:\n  x: { type: block }\n")) { XCTAssertTrue("\($0)".contains("needs zone"), "\($0)") }
        let domains = try section("dnsbl:\n  dbl: { zone: dbl.test, query: [sender, helo] }\n")
        XCTAssertEqual(domains.lists["dbl"]?.query, [.sender, .helo])
        XCTAssertEqual(domains.lists["dbl"]?.listsAddresses, false)
        XCTAssertEqual(ok.lists["zen"]?.listsAddresses, true)
        XCTAssertThrowsError(try section("dnsbl:\n  x: { zone: x.test, query: [client_ip, sender] }\n")) {
            XCTAssertTrue("\($0)".contains(":2:") && "\($0)".contains("not both"), "\($0)")
        }
        XCTAssertThrowsError(try section("dnsbl:\n  x: { zone: x.test, query: [url] }\n")) { XCTAssertTrue("\($0)".contains("must be one of"), "\($0)") }
    }

    /// Domains a domain list can be asked about: host names, lowercased; never an address literal or a bare word.
    func testDomainQueries() {
        XCTAssertEqual(DNSListQuery.domain("Mail.Example.ORG."), "mail.example.org")
        XCTAssertNil(DNSListQuery.domain("[192.0.2.1]"))
        XCTAssertNil(DNSListQuery.domain("localhost"))
        XCTAssertNil(DNSListQuery.domain("bad..example"))
        XCTAssertNil(DNSListQuery.domain("bücher.example"))
        XCTAssertEqual(DNSListHit(code: "127.0.1.2", text: "bad\r\nnews", listed: "HELO x.example").refusalText(list: "dbl.test"), "HELO x.example is listed by dbl.test: badnews")
    }

    struct StubResolver: DNSResolver {
        let answers: [String: Result<DNSAnswer, DNSError>]
        func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
            switch answers["\(name) \(type)"] ?? .success(DNSAnswer(status: .nxdomain, records: [], ttl: 60)) {
            case .success(let a): return a
            case .failure(let e): throw e
            }
        }
    }

    func testALookupThatFailsListsNobodyAndSaysWhy() async throws {
        let list = DNSList(name: "zen", zone: "zen.test", kind: .block, codes: nil)
        let ip = IPAddress("192.0.2.1")!
        let q = "1.2.0.192.zen.test"
        let listed = StubResolver(answers: [
            "\(q) A": .success(DNSAnswer(status: .ok, records: [.a("127.0.0.3")], ttl: 60)),
            "\(q) TXT": .success(DNSAnswer(status: .ok, records: [.txt(["see ", "https://zen.test"])], ttl: 60)),
        ])
        let hit = try await DNSListCheck.ask(list, name: DNSListQuery.name(for: ip, zone: list.zone), listed).get()
        XCTAssertEqual(hit, DNSListHit(code: "127.0.0.3", text: "see https://zen.test"))
        let clean = StubResolver(answers: [:])
        let none = try await DNSListCheck.ask(list, name: DNSListQuery.name(for: ip, zone: list.zone), clean).get()
        XCTAssertNil(none)
        let refused = StubResolver(answers: ["\(q) A": .success(DNSAnswer(status: .ok, records: [.a("127.255.255.254")], ttl: 60))])
        if case .failure(let e) = await DNSListCheck.ask(list, name: DNSListQuery.name(for: ip, zone: list.zone), refused) {
            XCTAssertTrue(e.message.contains("127.255.255.254"), e.message)
        } else {
            XCTFail("an error code is a failure to say, not a listing")
        }
        let down = StubResolver(answers: ["\(q) A": .failure(DNSError(temporary: true, "SERVFAIL"))])
        if case .success = await DNSListCheck.ask(list, name: DNSListQuery.name(for: ip, zone: list.zone), down) { XCTFail("SERVFAIL is not an answer") }
    }
}
