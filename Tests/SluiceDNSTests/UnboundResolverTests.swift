// The resolver component against a local DNS server with fixture records: the
// record types Sluice needs, NXDOMAIN versus NODATA, broken servers as
// temporary errors, and answers served from the cache once the server is gone.

import SluiceCore
import SluiceTestSupport
import XCTest

@testable import SluiceDNS

final class UnboundResolverTests: XCTestCase {
    static let zone = """
        $ORIGIN test.
        $TTL 300
        mx.test.        IN MX 20 mx2.mx.test.
        mx.test.        IN MX 10 mx1.mx.test.
        mx1.mx.test.    IN A 127.0.0.1
        mx2.mx.test.    IN A 127.0.0.2
        mx2.mx.test.    IN AAAA ::1
        nullmx.test.    IN MX 0 .
        aonly.test.     IN A 127.0.0.3
        alias.test.     IN CNAME aonly.test.
        spf.test.       IN TXT "v=spf1 ip4:192.0.2.0/24 " "-all"

        """

    var server: FixtureDNSServer!
    var resolver: UnboundResolver!

    override func setUpWithError() throws {
        do {
            server = try FixtureDNSServer(zone: Self.zone)
        } catch let e as FixtureUnavailable {
            throw XCTSkip(e.description)
        }
        resolver = try UnboundResolver(nameserver: .address("127.0.0.1", port: server.port), timeout: 3)
    }

    override func tearDown() {
        server?.stop()
        resolver = nil
    }

    func testMXRecordsAndAddresses() async throws {
        let mx = try await resolver.lookup("mx.test", .mx)
        XCTAssertEqual(mx.status, .ok)
        XCTAssertEqual(Set(mx.mx), [MXRecord(preference: 10, exchange: "mx1.mx.test"), MXRecord(preference: 20, exchange: "mx2.mx.test")])
        XCTAssertEqual(mx.ttl, 300)
        let a = try await resolver.lookup("mx2.mx.test", .a)
        XCTAssertEqual(a.addresses, ["127.0.0.2"])
        let aaaa = try await resolver.lookup("mx2.mx.test", .aaaa)
        XCTAssertEqual(aaaa.addresses, ["::1"])
    }

    func testNullMXNoDataAndNXDomainAreDistinct() async throws {
        let null = try await resolver.lookup("nullmx.test", .mx)
        XCTAssertEqual(null.mx, [MXRecord(preference: 0, exchange: "")])
        let noMX = try await resolver.lookup("aonly.test", .mx)
        XCTAssertEqual(noMX.status, .noData)
        let missing = try await resolver.lookup("nowhere.test", .mx)
        XCTAssertEqual(missing.status, .nxdomain)
    }

    func testTXTAndCNAME() async throws {
        let txt = try await resolver.lookup("spf.test", .txt)
        XCTAssertEqual(txt.texts, ["v=spf1 ip4:192.0.2.0/24 -all"])
        let alias = try await resolver.lookup("alias.test", .a)
        XCTAssertEqual(alias.addresses, ["127.0.0.3"])
    }

    func testServerFailureAndSilenceAreTemporary() async throws {
        do {
            _ = try await resolver.lookup("x.servfail.test", .mx)
            XCTFail("SERVFAIL must be an error")
        } catch {
            XCTAssertTrue(error.temporary, error.message)
        }
        let started = Date()
        do {
            _ = try await resolver.lookup("x.timeout.test", .txt)
            XCTFail("no answer must be an error")
        } catch {
            XCTAssertTrue(error.temporary, error.message)
            XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        }
    }

    func testAnswersComeFromTheCacheWithinTheirTTL() async throws {
        _ = try await resolver.lookup("mx.test", .mx)
        server.stop()
        let cached = try await resolver.lookup("mx.test", .mx)
        XCTAssertEqual(cached.mx.count, 2)
    }
}

final class UnboundResolverSetupTests: XCTestCase {
    /// A resolver that cannot start (its resolv.conf cannot be read) reports why instead of hanging:
    /// `sluice check` and the daemon's start-up build one. The wait is bounded so a regression fails.
    func testAnUnreadableResolvConfFailsInsteadOfHanging() {
        let outcome = NIOLockedBox<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do {
                _ = try UnboundResolver(nameserver: .resolvConf("/nonexistent/resolv.conf"), timeout: 1)
                outcome.set("made a resolver")
            } catch {
                outcome.set("\(error)")
            }
            done.signal()
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "the resolver's initialiser hung")
        XCTAssertTrue(outcome.get()?.contains("reading /nonexistent/resolv.conf") ?? false, outcome.get() ?? "nil")
    }
}

/// A value shared with a helper thread.
final class NIOLockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}
