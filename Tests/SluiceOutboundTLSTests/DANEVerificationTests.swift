// DANE's pure parts: which TLSA records SMTP can use, how a record matches a
// certificate, the verifier on chains made here (DANE-EE by key or whole
// certificate and digest, DANE-TA with the MX name and the injected clock),
// and the plan `send` makes for each host from a domain's policy.

import Crypto
import Foundation
import SluiceCore
import SluiceTestSupport
import X509
import XCTest

@testable import SluiceOutboundTLS

final class DANEVerificationTests: XCTestCase {
    struct Made {
        let certificate: Certificate
        let key: P256.Signing.PrivateKey
        var der: [UInt8] { (try? certificate.serializeAsPEM().derBytes) ?? [] }
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func make(_ cn: String, names: [String] = [], issuer: Made? = nil, ca: Bool = false) throws -> Made {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(cn) }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: start.addingTimeInterval(-3600), notValidAfter: start.addingTimeInterval(30 * 86400),
            issuer: issuer?.certificate.subject ?? subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                if ca {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    KeyUsage(keyCertSign: true)
                } else {
                    Critical(BasicConstraints.notCertificateAuthority)
                    SubjectAlternativeNames(names.map { .dnsName($0) })
                    KeyUsage(digitalSignature: true)
                }
            },
            issuerPrivateKey: .init((issuer?.key ?? key)))
        return Made(certificate: certificate, key: key)
    }

    func testUsableRecords() {
        XCTAssertTrue(TLSAMatch.usable(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32))))
        XCTAssertTrue(TLSAMatch.usable(TLSARecord(usage: 2, selector: 0, matchingType: 2, data: Array(repeating: 1, count: 64))))
        XCTAssertFalse(TLSAMatch.usable(TLSARecord(usage: 1, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32))), "PKIX-EE is not for SMTP")
        XCTAssertFalse(TLSAMatch.usable(TLSARecord(usage: 0, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32))))
        XCTAssertFalse(TLSAMatch.usable(TLSARecord(usage: 3, selector: 2, matchingType: 1, data: Array(repeating: 1, count: 32))))
        XCTAssertFalse(TLSAMatch.usable(TLSARecord(usage: 3, selector: 1, matchingType: 3, data: Array(repeating: 1, count: 32))))
        XCTAssertFalse(TLSAMatch.usable(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 31))), "a SHA-256 is 32 bytes")
    }

    func testDANEEEAndDANETA() async throws {
        let clock = ManualClock(start: start)
        let ca = try make("Test CA", ca: true)
        let leaf = try make("mx.example.test", names: ["mx.example.test"], issuer: ca)
        let spki = try XCTUnwrap(TLSAMatch.subjectPublicKeyInfo(leaf.der))
        func verify(_ records: [TLSARecord], host: String = "mx.example.test", chain: [[UInt8]]? = nil) async -> Result<String, PeerVerificationFailure> {
            await DANEVerifier(records: records, hostname: host, clock: clock).verify(chain: chain ?? [leaf.der, ca.der])
        }
        let r1 = try await verify([TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(SHA256.hash(data: spki)))]).get()
        XCTAssertEqual(r1, "DANE-EE")
        let r2 = try await verify([TLSARecord(usage: 3, selector: 0, matchingType: 2, data: Array(SHA512.hash(data: leaf.der)))]).get()
        XCTAssertEqual(r2, "DANE-EE")
        let r3 = try await verify([TLSARecord(usage: 3, selector: 0, matchingType: 0, data: leaf.der)]).get()
        XCTAssertEqual(r3, "DANE-EE")
        // DANE-EE ignores names and dates: another host name, a month later.
        clock.advance(by: 60 * 86400)
        let r4 = try await verify([TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(SHA256.hash(data: spki)))], host: "other.test").get()
        XCTAssertEqual(r4, "DANE-EE")
        clock.advance(by: -60 * 86400)

        let ta = TLSARecord(usage: 2, selector: 0, matchingType: 1, data: Array(SHA256.hash(data: ca.der)))
        let r5 = try await verify([ta]).get()
        XCTAssertEqual(r5, "DANE-TA")
        // DANE-TA checks the name and the dates.
        if case .success = await verify([ta], host: "mx.other.test") { XCTFail("DANE-TA needs the MX name in the certificate") }
        clock.advance(by: 60 * 86400)
        if case .success = await verify([ta]) { XCTFail("DANE-TA checks validity on the injected clock") }
        clock.advance(by: -60 * 86400)
        // The anchor must be in the chain presented.
        if case .success = await verify([ta], chain: [leaf.der]) { XCTFail("no anchor presented") }
        // A record of another key matches nothing; the reason names the host and records.
        let other = try make("x", names: ["mx.example.test"])
        let refused = await verify([TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(SHA256.hash(data: TLSAMatch.subjectPublicKeyInfo(other.der)!)))])
        guard case .failure(let why) = refused else { return XCTFail("another key must not match") }
        XCTAssertTrue(why.description.contains("no TLSA record of mx.example.test"), why.description)
    }

    func testPlanPerHost() {
        struct Accept: PeerCertificateVerifier {
            var description: String { "accept" }
            func verify(chain: [[UInt8]]) async -> Result<String, PeerVerificationFailure> { .success("test") }
        }
        var p = DomainTLSPolicy(mode: .verify, mxPatterns: ["mx1.d.test"], source: "mta-sts enforce")
        p.hosts = ["mx2.d.test": .verified(by: Accept()), "mx3.d.test": .unusable("its TLSA records fail DNSSEC validation"), "mx4.d.test": .encrypted]
        guard case .attempt(.required, nil, true, "mta-sts enforce") = p.plan(forHost: "mx1.d.test") else { return XCTFail() }
        // DANE comes before the MTA-STS list: mx2 is not in it, and is used with its verifier.
        guard case .attempt(.required, let v?, true, "dane") = p.plan(forHost: "MX2.d.test."), "\(v)" == "accept" else { return XCTFail() }
        guard case .skip(let why, .dnssecInvalid) = p.plan(forHost: "mx3.d.test") else { return XCTFail() }
        XCTAssertTrue(why.contains("DNSSEC"))
        guard case .attempt(.required, nil, false, _) = p.plan(forHost: "mx4.d.test") else { return XCTFail("encrypted, unauthenticated") }
        guard case .skip(_, .validationFailure) = p.plan(forHost: "mx5.d.test") else { return XCTFail("outside the MTA-STS list") }
        p.testing = true
        guard case .attempt(.opportunistic, nil, false, _) = p.plan(forHost: "mx5.d.test") else { return XCTFail("testing delivers") }
        let only = DomainTLSPolicy(mode: .daneOnly, source: "tls_policy", hosts: ["mx2.d.test": .verified(by: Accept())])
        guard case .skip(_, .daneRequired) = only.plan(forHost: "mx1.d.test") else { return XCTFail("dane-only: no TLSA, no delivery") }
        guard case .attempt(_, _?, _, _) = only.plan(forHost: "mx2.d.test") else { return XCTFail() }
        guard case .attempt(.opportunistic, nil, false, "default may") = DomainTLSPolicy(mode: .may, source: "default").plan(forHost: "a.test") else {
            return XCTFail()
        }
    }
}
