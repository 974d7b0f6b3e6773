import SluiceConfig
import SluiceCore
import XCTest

@testable import SluicePolicy

final class TrafficPolicyTests: XCTestCase {
    func client(_ ip: String, tls: String? = nil) -> ClientInfo {
        var c = ClientInfo(address: IPAddress(ip), listener: "t")
        c.tlsVersion = tls
        return c
    }

    func testFirstMatchingStatementDecides() {
        let p = TrafficPolicy(
            name: "p", defaultAction: .deny,
            statements: [
                .init(action: .deny, conditions: [.clientIP([CIDR("127.0.0.2/32")!])]),
                .init(action: .allow, conditions: [.clientIP([CIDR("127.0.0.0/8")!])]),
                .init(action: .allow, conditions: [.recipientDomain(["open.test"]), .tls(true)]),
            ])
        let r = MailAddress(localPart: "u", domain: "x.test")
        XCTAssertEqual(p.evaluate(client: client("127.0.0.1"), recipient: r), .allow)
        XCTAssertEqual(p.evaluate(client: client("127.0.0.2"), recipient: r), .deny)
        XCTAssertEqual(p.evaluate(client: client("192.0.2.1"), recipient: r), .deny)
        let open = MailAddress(localPart: "u", domain: "Open.Test.")
        XCTAssertEqual(p.evaluate(client: client("192.0.2.1"), recipient: open), .deny)
        XCTAssertEqual(p.evaluate(client: client("192.0.2.1", tls: "TLSv1.3"), recipient: open), .allow)
    }

    func testConnectTimeDecisionOnlyWhenCertain() {
        let ipOnly = TrafficPolicy(
            name: "p", defaultAction: .deny, statements: [.init(action: .allow, conditions: [.clientIP([CIDR("127.0.0.0/8")!])])])
        XCTAssertNil(ipOnly.evaluateAtConnect(client: client("127.0.0.1")))
        XCTAssertEqual(ipOnly.evaluateAtConnect(client: client("192.0.2.1")), .deny)
        let mixed = TrafficPolicy(
            name: "p", defaultAction: .deny, statements: [.init(action: .allow, conditions: [.recipientDomain(["a.test"])])])
        XCTAssertNil(mixed.evaluateAtConnect(client: client("192.0.2.1")))
    }

    func testTLSVersionCondition() {
        let p = TrafficPolicy(name: "p", defaultAction: .deny, statements: [.init(action: .allow, conditions: [.tlsVersion(.atLeast("TLSv1.3"))])])
        XCTAssertEqual(p.evaluate(client: client("192.0.2.1", tls: "TLSv1.2"), recipient: nil), .deny)
        XCTAssertEqual(p.evaluate(client: client("192.0.2.1", tls: "TLSv1.3"), recipient: nil), .allow)
    }

    func testCIDR() {
        XCTAssertTrue(CIDR("192.0.2.0/24")!.contains(IPAddress("192.0.2.200")!))
        XCTAssertFalse(CIDR("192.0.2.0/25")!.contains(IPAddress("192.0.2.200")!))
        XCTAssertTrue(CIDR("::/0")!.contains(IPAddress("2001:db8::1")!))
        XCTAssertFalse(CIDR("::/0")!.contains(IPAddress("1.2.3.4")!))
        XCTAssertNil(CIDR("192.0.2.0/33"))
        XCTAssertNil(CIDR("nonsense"))
    }
}
