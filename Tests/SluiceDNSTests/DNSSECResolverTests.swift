// DNSSEC through the resolver component: zones signed by ldns-signzone and
// served by NSD, the test's trust anchor given to libunbound. A signed
// zone's answers (data, NODATA, NXDOMAIN) are secure, an unsigned zone's
// insecure, a zone whose signatures expired is bogus (an error that says
// so, never data); TLSA records decode; without a trust anchor nothing is
// secure.

import SluiceCore
import SluiceTestSupport
import XCTest

@testable import SluiceDNS

final class DNSSECResolverTests: XCTestCase {
    func testSecureInsecureAndBogusAnswers() async throws {
        let hash = String(repeating: "ab", count: 32)
        let server: SignedZoneServer
        do {
            server = try SignedZoneServer(zones: [
                .init("signed.test", .valid, "@ IN MX 10 mx.signed.test.\nmx IN A 127.0.0.1\n_25._tcp.mx IN TLSA 3 1 1 \(hash)\n"),
                .init("plain.test", .unsigned, "@ IN MX 10 mx.plain.test.\nmx IN A 127.0.0.1\n"),
                .init("expired.test", .expired, "@ IN MX 10 mx.expired.test.\nmx IN A 127.0.0.1\n"),
            ])
        } catch let e as SignedZoneUnavailable {
            throw XCTSkip(e.description)
        }
        defer { server.stop() }
        let resolver = try UnboundResolver(nameserver: .address("127.0.0.1", port: server.port), timeout: 5, trustAnchor: server.trustAnchor)

        let mx = try await resolver.lookup("signed.test", .mx)
        XCTAssertEqual(mx.security, .secure)
        XCTAssertEqual(mx.mx.map(\.exchange), ["mx.signed.test"])
        let tlsa = try await resolver.lookup("_25._tcp.mx.signed.test", .tlsa)
        XCTAssertEqual(tlsa.security, .secure)
        XCTAssertEqual(tlsa.tlsa, [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xab, count: 32))])
        let none = try await resolver.lookup("_25._tcp.nothere.signed.test", .tlsa)
        XCTAssertEqual(none.status, .nxdomain)
        XCTAssertEqual(none.security, .secure, "a denial is proven too")

        let plain = try await resolver.lookup("plain.test", .mx)
        XCTAssertEqual(plain.security, .insecure)
        XCTAssertEqual(plain.mx.count, 1)

        do {
            _ = try await resolver.lookup("expired.test", .mx)
            XCTFail("an answer whose signatures expired is bogus")
        } catch {
            XCTAssertTrue(error.bogus, error.message)
            XCTAssertTrue(error.temporary)
            XCTAssertTrue(error.message.contains("DNSSEC bogus"), error.message)
        }

        // No trust anchor: the same signed answer is not vouched for.
        let unanchored = try UnboundResolver(nameserver: .address("127.0.0.1", port: server.port), timeout: 5)
        let same = try await unanchored.lookup("signed.test", .mx)
        XCTAssertEqual(same.security, .insecure)
    }

    func testTLSARecordData() throws {
        XCTAssertEqual(try RecordData.decode(.tlsa, [3, 1, 1, 0xde, 0xad]), .tlsa(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [0xde, 0xad])))
        XCTAssertThrowsError(try RecordData.decode(.tlsa, [3, 1]))
        XCTAssertEqual(TLSARecord(usage: 2, selector: 0, matchingType: 1, data: [1, 2]).description, "2 0 1 0102")
    }
}
