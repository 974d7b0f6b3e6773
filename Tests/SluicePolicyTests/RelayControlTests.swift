// The open-relay guard: table of addresses and clients.

import SluiceConfig
import SluiceCore
import XCTest

@testable import SluicePolicy

final class RelayControlTests: XCTestCase {
    let relay = RelayControl(
        localDomains: ["local.test", ".sub.local.test"], trustedNetworks: [CIDR("10.0.0.0/8")!, CIDR("2001:db8::/32")!],
        ownNames: ["mx.local.test"])

    func client(_ ip: String, user: String? = nil) -> ClientInfo {
        var c = ClientInfo(address: IPAddress(ip), listener: "t")
        c.authenticatedUser = user
        return c
    }

    func addr(_ local: String, _ domain: String) -> MailAddress { MailAddress(localPart: local, domain: domain) }

    func testUntrustedClients() {
        let outsider = client("198.51.100.9")
        let table: [(MailAddress, Bool)] = [
            (addr("u", "local.test"), true),
            (addr("u", "LOCAL.Test"), true),
            (addr("u", "local.test."), true),
            (addr("u", "a.sub.local.test"), true),
            (addr("u", "sub.local.test"), false),
            (addr("u", "other.test"), false),
            (addr("u", "local.test.other.test"), false),
            (addr("u", "notlocal.test"), false),
            (addr("u%other.test", "local.test"), false),
            (addr("other.test!u", "local.test"), false),
            (addr("\"u@other.test\"", "local.test"), false),
            (addr("\"u%other.test\"", "local.test"), false),
            (addr("u", "[192.0.2.1]"), false),
            (addr("postmaster", "mx.local.test"), true),
            (addr("PostMaster", "MX.local.test."), true),
            (addr("root", "mx.local.test"), false),
            (addr("postmaster", "other.test"), false),
        ]
        for (a, accepted) in table {
            XCTAssertEqual(relay.check(recipient: a, client: outsider) == nil, accepted, "\(a)")
        }
        XCTAssertEqual(relay.check(recipient: addr("u", "other.test"), client: outsider)?.reply.status, EnhancedStatus(5, 7, 1))
    }

    func testTrustedAndAuthenticatedClientsMayRelay() {
        XCTAssertNil(relay.check(recipient: addr("u", "other.test"), client: client("10.1.2.3")))
        XCTAssertNil(relay.check(recipient: addr("u", "other.test"), client: client("2001:db8::5")))
        XCTAssertNil(relay.check(recipient: addr("u", "other.test"), client: client("::ffff:10.1.2.3")))
        XCTAssertNil(relay.check(recipient: addr("u", "other.test"), client: client("198.51.100.9", user: "app")))
        XCTAssertNotNil(relay.check(recipient: addr("u", "other.test"), client: client("11.0.0.1")))
    }
}

/// A client certificate of `certificates:` relays as an authenticated client does; another verified one does not.
final class CertificateRelayTests: XCTestCase {
    func testOnlyAListedCertificateRelays() {
        let relay = RelayControl(
            localDomains: ["example.org"], trustedNetworks: [],
            certificates: [CertificatePrincipal(match: .subject("CN=app1"), senders: ["example.test"])])
        var client = ClientInfo(address: IPAddress("203.0.113.5"), listener: "m")
        let far = MailAddress(localPart: "u", domain: "far.example")
        XCTAssertNotNil(relay.check(recipient: far, client: client))
        client.clientCertificate = ClientCertificate(
            subject: "CN=app2,O=Example", issuer: "CN=CA", subjectAlternativeNames: [], fingerprint: "sha256:00", serialNumber: "2")
        XCTAssertNotNil(relay.check(recipient: far, client: client), "verified but not listed: no relay")
        client.clientCertificate?.subject = "CN=app1,O=Example"
        XCTAssertNil(relay.check(recipient: far, client: client))
    }
}
