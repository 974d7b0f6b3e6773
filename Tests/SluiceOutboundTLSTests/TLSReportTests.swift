// The TLS-RPT aggregate report (RFC 8460 §4) of a day with one successful
// and one failed session under an MTA-STS policy, and a DANE host's
// sessions under a policy of their own: every field the RFC names.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceOutboundTLS

final class TLSReportTests: XCTestCase {
    func testADayWithOneSuccessAndOneFailure() throws {
        let at = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15
        let sts = DomainTLSPolicy(mode: .verify, mxPatterns: ["mx.example.test", "*.example.net"], source: "mta-sts enforce")
        let records = [
            TLSResultRecord(TLSSessionResult(domain: "example.test", policy: sts, mxHost: "mx.example.test", receivingIP: "192.0.2.1", failure: nil, detail: nil, at: at)),
            TLSResultRecord(TLSSessionResult(
                domain: "example.test", policy: sts, mxHost: "mx2.example.test", receivingIP: "192.0.2.2", failure: .certificateHostMismatch,
                detail: "Couldn't find mx2.example.test in certificate from peer", at: at)),
        ]
        XCTAssertEqual(TLSResultRecord.day(at), "2027-01-15")
        let reports = TLSReport.build(day: "2027-01-15", records: records, organization: "mx.sluice.test", contact: "postmaster@mx.sluice.test")
        let report = try XCTUnwrap(reports["example.test"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        XCTAssertEqual(json["organization-name"] as? String, "mx.sluice.test")
        XCTAssertEqual(json["contact-info"] as? String, "postmaster@mx.sluice.test")
        XCTAssertEqual(json["report-id"] as? String, "2027-01-15_example.test@mx.sluice.test")
        XCTAssertEqual(json["date-range"] as? [String: String], ["start-datetime": "2027-01-15T00:00:00Z", "end-datetime": "2027-01-15T23:59:59Z"])
        let policies = try XCTUnwrap(json["policies"] as? [[String: Any]])
        XCTAssertEqual(policies.count, 1)
        let policy = try XCTUnwrap(policies[0]["policy"] as? [String: Any])
        XCTAssertEqual(policy["policy-type"] as? String, "sts")
        XCTAssertEqual(policy["policy-domain"] as? String, "example.test")
        XCTAssertEqual(policy["policy-string"] as? [String], ["version: STSv1", "mode: enforce", "mx: mx.example.test", "mx: *.example.net"])
        XCTAssertEqual(policy["mx-host"] as? [String], ["mx.example.test", "mx2.example.test"])
        XCTAssertEqual(policies[0]["summary"] as? [String: Int], ["total-successful-session-count": 1, "total-failure-session-count": 1])
        let details = try XCTUnwrap(policies[0]["failure-details"] as? [[String: Any]])
        XCTAssertEqual(details.count, 1)
        XCTAssertEqual(details[0]["result-type"] as? String, "certificate-host-mismatch")
        XCTAssertEqual(details[0]["receiving-mx-hostname"] as? String, "mx2.example.test")
        XCTAssertEqual(details[0]["receiving-ip"] as? String, "192.0.2.2")
        XCTAssertEqual(details[0]["failed-session-count"] as? Int, 1)
        XCTAssertNotNil(details[0]["additional-information"])
    }

    func testDANEHostsAreATLSAPolicy() throws {
        struct V: PeerCertificateVerifier {
            var description: String { "DANE mx.d.test: 3 1 1 aabb" }
            func verify(chain: [[UInt8]]) async -> Result<String, PeerVerificationFailure> { .success("DANE-EE") }
        }
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let p = DomainTLSPolicy(mode: .may, source: "default", hosts: ["mx.d.test": .verified(by: V())])
        let r = TLSResultRecord(TLSSessionResult(domain: "d.test", policy: p, mxHost: "MX.d.test", receivingIP: "192.0.2.9", failure: nil, detail: nil, at: at))
        XCTAssertEqual(r.policyType, "tlsa")
        XCTAssertEqual(r.policyString, ["verified by DANE mx.d.test: 3 1 1 aabb"])
        let other = TLSResultRecord(TLSSessionResult(domain: "d.test", policy: p, mxHost: "mx2.d.test", receivingIP: nil, failure: .starttlsNotSupported, detail: nil, at: at))
        XCTAssertEqual(other.policyType, "no-policy-found")
        let report = try XCTUnwrap(TLSReport.build(day: "2027-01-15", records: [r, other], organization: "o", contact: "c")["d.test"])
        XCTAssertEqual(report.policies.map(\.policy.type).sorted(), ["no-policy-found", "tlsa"])
    }
}
