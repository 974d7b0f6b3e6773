// Mailing a day's report (RFC 8460 §3, §5.3): the _smtp._tls record's
// mailto addresses (https ones are not used), the message queued through
// the host's local mail with the headers, report type and JSON attachment
// the RFC gives, and nothing for a domain without a record.

import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceTestSupport
import Synchronization
import XCTest

@testable import SluiceOutboundTLS

final class TLSReportMailTests: XCTestCase {
    struct Table: DNSResolver {
        let txt: [String: [String]]
        func lookup(_ name: String, _ type: DNSRecordType) async throws(DNSError) -> DNSAnswer {
            guard let t = txt[name] else { return DNSAnswer(status: .nxdomain, records: [], ttl: 60) }
            return DNSAnswer(status: .ok, records: t.map { .txt([$0]) }, ttl: 60)
        }
    }

    final class Capture: LocalMailSubmitter {
        let messages = Mutex<[LocalMessage]>([])
        func submit(_ message: LocalMessage) async throws -> QueueID {
            messages.withLock { $0.append(message) }
            return QueueID.generate()
        }
    }

    func testRecordParsing() {
        XCTAssertEqual(TLSRPTRecord.rua(["v=TLSRPTv1; rua=mailto:tls@example.test,https://r.example.test/x"]), ["mailto:tls@example.test", "https://r.example.test/x"])
        XCTAssertNil(TLSRPTRecord.rua(["v=TLSRPTv1; rua=mailto:a@b.test", "v=TLSRPTv1; rua=mailto:c@d.test"]), "two records: none")
        XCTAssertNil(TLSRPTRecord.rua(["v=spf1 -all"]))
        XCTAssertNil(TLSRPTRecord.rua(["v=TLSRPTv1;"]))
        XCTAssertEqual(TLSRPTRecord.mailboxes(["mailto:tls%2Breports@example.test?subject=x", "https://r.test/", "mailto:bad"]).map(\.description), ["tls+reports@example.test"])
    }

    func testReportsGoToTheMailtoAddresses() async throws {
        let dir = NSTemporaryDirectory() + "sluice-rpt-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let records = [TLSResultRecord(TLSSessionResult(
            domain: "example.test", policy: DomainTLSPolicy(mode: .verify, mxPatterns: ["mx.example.test"], source: "mta-sts enforce"), mxHost: "mx.example.test",
            receivingIP: "192.0.2.1", failure: nil, detail: nil, at: at))]
        var files: [String: String] = [:]
        for (domain, report) in TLSReport.build(day: "2027-01-15", records: records, organization: "mx.sluice.test", contact: "postmaster@mx.sluice.test") {
            files[domain] = "\(dir)/\(domain).json"
            try report.json().write(to: URL(fileURLWithPath: files[domain]!))
        }
        files["quiet.test"] = "\(dir)/quiet.test.json"
        let capture = Capture()
        let local = LocalMail()
        local.connect(capture)
        let mailer = TLSReportMailer(
            resolver: Table(txt: ["_smtp._tls.example.test": ["v=TLSRPTv1; rua=mailto:tls@example.test,https://r.example.test/"]]), localMail: local,
            clock: ManualClock(start: at), logger: Logger(label: "test"))
        let config = try SluiceConfiguration.parse(yaml: "hostname: mx.sluice.test\nlisteners:\n  - { name: relay, address: 127.0.0.1:2525, rules: default }\n", file: "t.yaml")
        await mailer.mail(day: "2027-01-15", files: files, config: config)

        let sent = capture.messages.withLock { $0 }
        XCTAssertEqual(sent.count, 1, "one report, to the domain that asks; none for quiet.test")
        let m = try XCTUnwrap(sent.first)
        XCTAssertEqual(m.recipients.map(\.description), ["tls@example.test"])
        XCTAssertEqual(m.sender?.description, "postmaster@mx.sluice.test")
        XCTAssertEqual(m.listener, "relay")
        let text = String(decoding: m.bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("Subject: Report Domain: example.test Submitter: mx.sluice.test Report-ID: <2027-01-15_example.test@mx.sluice.test>\r\n"), text)
        XCTAssertTrue(text.contains("TLS-Report-Domain: example.test\r\n"))
        XCTAssertTrue(text.contains("TLS-Report-Submitter: mx.sluice.test\r\n"))
        XCTAssertTrue(text.contains("Content-Type: multipart/report; report-type=\"tlsrpt\""))
        XCTAssertTrue(text.contains("Content-Type: application/tlsrpt+json"))
        XCTAssertTrue(text.contains("filename=\"mx.sluice.test!example.test!1799971200!1800057599.json\""), text)
        let attachment = try XCTUnwrap(text.components(separatedBy: "Content-Disposition: attachment;").last)
        let encoded = attachment.components(separatedBy: "\r\n\r\n")[1].components(separatedBy: "\r\n--")[0].replacingOccurrences(of: "\r\n", with: "")
        let json = try XCTUnwrap(Data(base64Encoded: encoded))
        XCTAssertEqual(try JSONDecoder().decode(TLSReport.self, from: json).policies.first?.summary.successful, 1)
    }
}
