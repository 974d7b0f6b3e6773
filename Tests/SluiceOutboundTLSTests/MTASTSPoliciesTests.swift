// The policy decisions of MTASTSPolicies on a manual clock, a table
// resolver and a table of policy texts: the administrator's entry first,
// fetched once per id, the cache kept when the TXT record goes or the host
// is down, refetched on a new id or after max_age, read back from disk after
// a restart, and the default for a domain without a policy.

import Logging
import NIOPosix
import SluiceCore
import SluiceTestSupport
import Synchronization
import XCTest

@testable import SluiceOutboundTLS

final class MTASTSPoliciesTests: XCTestCase {
    final class Fixture: DNSResolver, PolicyFetching {
        let txt = Mutex<[String: [String]]>([:])
        let texts = Mutex<[String: String]>([:])
        let fetches = Mutex<[String]>([])

        func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
            guard type == .txt, let t = txt.withLock({ $0[name] }) else { return DNSAnswer(status: .nxdomain, records: [], ttl: 60) }
            return DNSAnswer(status: .ok, records: t.map { .txt([$0]) }, ttl: 60)
        }

        func fetch(_ domain: String) async throws(PolicyFetchFailure) -> String {
            fetches.withLock { $0.append(domain) }
            guard let text = texts.withLock({ $0[domain] }) else { throw PolicyFetchFailure(description: "connection refused") }
            return text
        }
    }

    let enforce = "version: STSv1\nmode: enforce\nmx: mx.d.test\nmax_age: 86400\n"
    var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "sluice-mtasts-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func make(_ f: Fixture, _ clock: ManualClock, table: [String: DomainTLSPolicy.Mode] = ["*": .may]) -> OutboundTLSPolicies {
        let published = MTASTSPolicies(
            resolver: f, fetcher: f, directory: PolicyDirectory(path: directory), clock: clock, io: .singleton, logger: Logger(label: "test"))
        return OutboundTLSPolicies(mtaSTS: published, dane: nil) { table }
    }

    func testFetchOnceCacheAndRefetch() async throws {
        let f = Fixture()
        let clock = ManualClock()
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=1"] }
        f.texts.withLock { $0["d.test"] = enforce }
        let p = make(f, clock)
        let first = await p.policy(for: "d.test")
        XCTAssertEqual(first, DomainTLSPolicy(mode: .verify, mxPatterns: ["mx.d.test"], source: "mta-sts enforce"))
        _ = await p.policy(for: "D.TEST")
        XCTAssertEqual(f.fetches.withLock { $0 }, ["d.test"], "the same id is not fetched again")

        // The host goes down and the TXT record goes away: the cached policy holds until max_age.
        f.texts.withLock { $0 = [:] }
        f.txt.withLock { $0 = [:] }
        clock.advance(by: 3600)
        let cached = await p.policy(for: "d.test")
        XCTAssertEqual(cached.source, "mta-sts enforce")
        clock.advance(by: 86400)
        let expired = await p.policy(for: "d.test")
        XCTAssertEqual(expired, DomainTLSPolicy(mode: .may, source: "default"))

        // A new id: fetched again; a failed fetch keeps the policy in force.
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=2"] }
        f.texts.withLock { $0["d.test"] = enforce.replacingOccurrences(of: "mx.d.test", with: "*.d.test") }
        let second = await p.policy(for: "d.test")
        XCTAssertEqual(second.mxPatterns, ["*.d.test"])
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=3"] }
        f.texts.withLock { $0 = [:] }
        let kept = await p.policy(for: "d.test")
        XCTAssertEqual(kept.mxPatterns, ["*.d.test"], "a failed fetch leaves the valid policy in force")
    }

    func testAPolicyHostThatIsDownIsNotAskedAgainForFiveMinutes() async throws {
        let f = Fixture()
        let clock = ManualClock()
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=1"] }
        let p = make(f, clock)
        for _ in 0..<3 { _ = await p.policy(for: "d.test") }
        XCTAssertEqual(f.fetches.withLock { $0 }.count, 1, "one failed fetch, then the default without asking again")
        clock.advance(by: 301)
        f.texts.withLock { $0["d.test"] = enforce }
        let back = await p.policy(for: "d.test")
        XCTAssertEqual(back.source, "mta-sts enforce")
        XCTAssertEqual(f.fetches.withLock { $0 }.count, 2)
    }

    func testDiskCacheSurvivesARestart() async throws {
        let f = Fixture()
        let clock = ManualClock()
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=1"] }
        f.texts.withLock { $0["d.test"] = enforce }
        _ = await make(f, clock).policy(for: "d.test")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/d.test.json"))
        f.texts.withLock { $0 = [:] }
        let again = await make(f, clock).policy(for: "d.test")
        XCTAssertEqual(again.source, "mta-sts enforce")
        XCTAssertEqual(f.fetches.withLock { $0 }.count, 1, "a new process reads the policy from disk")
    }

    func testOwnEntryFirstAndDefaults() async throws {
        let f = Fixture()
        let clock = ManualClock()
        f.txt.withLock { $0["_mta-sts.d.test"] = ["v=STSv1; id=1"] }
        f.texts.withLock { $0["d.test"] = enforce }
        let p = make(f, clock, table: ["*": .none, "d.test": .may, "v.test": .verify])
        let own = await p.policy(for: "d.test")
        XCTAssertEqual(own, DomainTLSPolicy(mode: .may, source: "tls_policy"))
        XCTAssertEqual(f.fetches.withLock { $0 }, [], "a domain with its own entry is not asked")
        let verify = await p.policy(for: "v.test")
        XCTAssertEqual(verify.mode, .verify)
        let none = await p.policy(for: "other.test")
        XCTAssertEqual(none, DomainTLSPolicy(mode: .none, source: "default"))
        // A policy that does not parse is no policy.
        f.txt.withLock { $0["_mta-sts.bad.test"] = ["v=STSv1; id=1"] }
        f.texts.withLock { $0["bad.test"] = "<html>" }
        let bad = await p.policy(for: "bad.test")
        XCTAssertEqual(bad.source, "default")
    }
}
