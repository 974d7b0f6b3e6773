// Where direct delivery goes: MX preference order, implicit MX, null MX,
// NXDOMAIN, loops back to this host; and the addresses SendTarget derives
// from a resolver (a fake one here; the real one is tested against a local
// DNS server in SluiceDNSTests and the integration tests).

import NIOPosix
import SluiceCore
import XCTest

@testable import SluiceDelivery

final class MXSelectionTests: XCTestCase {
    func answer(_ mx: [(Int, String)]) -> DNSAnswer {
        DNSAnswer(status: .ok, records: mx.map { .mx(MXRecord(preference: $0.0, exchange: $0.1)) }, ttl: 60)
    }

    func names(_ r: Result<[MXSelection.Host], SMTPError>) -> [String] {
        (try? r.get().map(\.name)) ?? []
    }

    let sorted: ([MXSelection.Host]) -> [MXSelection.Host] = { $0.sorted { $0.name < $1.name } }

    func testPreferenceOrder() {
        let r = MXSelection.hosts(
            domain: "d.test", answer: answer([(20, "b.d.test"), (10, "MX2.d.test"), (10, "mx1.d.test")]), ownHostname: "me.test",
            shuffle: sorted)
        XCTAssertEqual(names(r), ["mx1.d.test", "mx2.d.test", "b.d.test"])
    }

    func testImplicitMXNullMXAndNXDomain() {
        let implicit = MXSelection.hosts(domain: "d.test", answer: DNSAnswer(status: .noData, records: [], ttl: 60), ownHostname: "me")
        XCTAssertEqual(names(implicit), ["d.test"])
        guard case .failure(let null) = MXSelection.hosts(domain: "d.test", answer: answer([(0, "")]), ownHostname: "me") else {
            return XCTFail()
        }
        XCTAssertEqual(null.reply.code, 556)
        XCTAssertEqual(null.reply.status, EnhancedStatus(5, 1, 10))
        guard case .failure(let nx) = MXSelection.hosts(domain: "d.test", answer: DNSAnswer(status: .nxdomain, records: [], ttl: 60), ownHostname: "me")
        else { return XCTFail() }
        XCTAssertTrue(nx.isPermanent)
    }

    func testOnlyMorePreferredHostsThanMyself() {
        let r = MXSelection.hosts(
            domain: "d.test", answer: answer([(10, "primary.test"), (20, "me.test"), (30, "last.test")]), ownHostname: "ME.test")
        XCTAssertEqual(names(r), ["primary.test"])
        guard case .failure(let loop) = MXSelection.hosts(domain: "d.test", answer: answer([(10, "me.test")]), ownHostname: "me.test")
        else { return XCTFail() }
        XCTAssertEqual(loop.reply.status, EnhancedStatus(5, 4, 6))
    }
}

/// A resolver with a fixed table; a name in `failing` answers with a temporary error.
struct TableResolver: DNSResolver {
    var table: [String: DNSAnswer]
    var failing: Set<String> = []

    func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
        if failing.contains(name) { throw DNSError(temporary: true, "SERVFAIL") }
        if let a = table["\(name) \(type)"] { return a }
        let exists = table.keys.contains { $0.hasPrefix(name + " ") }
        return DNSAnswer(status: exists ? .noData : .nxdomain, records: [], ttl: 60)
    }
}

final class SendTargetEndpointTests: XCTestCase {
    func target(_ resolver: TableResolver) throws -> SendTarget {
        let group = MultiThreadedEventLoopGroup.singleton
        return SendTarget(
            resolver: resolver, deliverer: try SMTPDeliverer(heloName: "me.test", group: group, io: .singleton), port: 2525,
            policies: StaticTLSPolicy { [:] }, hostname: "me.test", destinationConcurrency: 2, logger: .init(label: "test"))
    }

    func testAddressesInMXOrderWithTheMXNameForTLS() async throws {
        let t = try target(
            TableResolver(table: [
                "d.test MX": DNSAnswer(status: .ok, records: [.mx(.init(preference: 20, exchange: "b.test")), .mx(.init(preference: 10, exchange: "a.test"))], ttl: 1),
                "a.test A": DNSAnswer(status: .ok, records: [.a("192.0.2.1")], ttl: 1),
                "a.test AAAA": DNSAnswer(status: .ok, records: [.aaaa("2001:db8::1")], ttl: 1),
                "b.test A": DNSAnswer(status: .ok, records: [.a("192.0.2.2")], ttl: 1),
            ]))
        let endpoints = try await t.endpoints(for: "d.test").get()
        XCTAssertEqual(endpoints.map(\.host), ["192.0.2.1", "2001:db8::1", "192.0.2.2"])
        XCTAssertEqual(endpoints.map(\.serverName), ["a.test", "a.test", "b.test"])
        XCTAssertEqual(endpoints.first?.port, 2525)
    }

    func testDNSTroubleIsTemporaryAndMissingAddressesArePermanent() async throws {
        let failing = try target(TableResolver(table: [:], failing: ["d.test"]))
        guard case .failure(let e) = await failing.endpoints(for: "d.test") else { return XCTFail() }
        XCTAssertEqual(e.reply.status, EnhancedStatus(4, 4, 3))
        let noAddress = try target(
            TableResolver(table: ["d.test MX": DNSAnswer(status: .ok, records: [.mx(.init(preference: 1, exchange: "gone.test"))], ttl: 1)]))
        guard case .failure(let p) = await noAddress.endpoints(for: "d.test") else { return XCTFail() }
        XCTAssertTrue(p.isPermanent, "\(p)")
        let literal = try await noAddress.endpoints(for: "[IPv6:::1]").get()
        XCTAssertEqual(literal.map(\.host), ["::1"])
    }

    func testKeyedLimiterHoldsTheLimit() async {
        let limiter = KeyedLimiter(limit: 2)
        let peak = Peak()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    await limiter.withSlot("d.test") {
                        await peak.enter()
                        try? await Task.sleep(for: .milliseconds(5))
                        await peak.leave()
                    }
                }
            }
        }
        let max = await peak.max
        XCTAssertEqual(max, 2)
    }
}

actor Peak {
    var now = 0
    var max = 0
    func enter() {
        now += 1
        max = Swift.max(max, now)
    }
    func leave() { now -= 1 }
}
