// The MIME walker under the detectors: values hidden by quoted-printable soft
// breaks, base64 attachments, HTML tags and RFC 2047 headers are found, and
// profiles count them with their options; malformed input does not stop it.

import XCTest

@testable import SluiceDLP

final class MIMEScanTests: XCTestCase {
    let yaml = """
        profiles:
          pci:
            detectors: [credit_card]
          pii:
            detectors: [us_ssn, iban]
            scan_attachments: false
          project:
            custom:
              - { name: codename, keywords: [falcon] }
              - { name: invoice, regex: "INV-[0-9]{6}", keywords: [invoice], proximity: 40 }
            min_count: 2
        """

    func scanner() throws -> DLPScanner { try DLPScanner(book: try DLPBook.parse(yaml: yaml, file: "/r/dlp.yaml")) }

    func testQuotedPrintableBase64HTMLAndHeaders() throws {
        let csv = Data("name,ssn\nJane,536-22-1234\n".utf8).base64EncodedString(options: [.lineLength76Characters])
        let message = """
            From: a@example.test\r
            Subject: =?UTF-8?B?SUJBTiBERTg5IDM3MDQgMDA0NCAwNTMyIDAxMzAgMDA=?=\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="outer"\r
            \r
            preamble\r
            --outer\r
            Content-Type: multipart/alternative; boundary=inner\r
            \r
            --inner\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Card: 4111 1111 =\r
            1111 1111 =E2=80=94 thanks\r
            --inner\r
            Content-Type: text/html\r
            \r
            <p>Card <b>5500</b>-0000-0000-0004</p><script>var x="4111111111111111";</script>\r
            --inner--\r
            --outer\r
            Content-Type: text/csv; name="people.csv"\r
            Content-Disposition: attachment; filename*=utf-8''people%20list.csv\r
            Content-Transfer-Encoding: base64\r
            \r
            \(csv)\r
            --outer--\r

            """
        let report = try scanner().scan(Array(message.utf8))
        let byDetector = Dictionary(grouping: report.findings, by: \.detector)
        XCTAssertEqual(byDetector["credit_card"]?.map(\.snippet).sorted(), ["4111 **** **** 1111", "5500-****-****-0004"])
        XCTAssertEqual(byDetector["iban"]?.first?.part, "headers")
        XCTAssertEqual(byDetector["us_ssn"]?.first?.part, "attachment people list.csv")
        XCTAssertEqual(report.counts["pci"], 2)
        XCTAssertEqual(report.counts["pii"], 1, "the SSN is in an attachment, which pii does not scan")
    }

    func testCustomDetectorsAndMinimumCount() throws {
        let once = try scanner().scan(Array("Subject: hi\r\n\r\nProject Falcon starts.\r\n".utf8))
        XCTAssertEqual(once.counts["project"], 1)
        let twice = try scanner().scan(Array(("Subject: hi\r\n\r\nProject FALCON: invoice INV-123456 attached.\r\n" + String(repeating: "lorem ipsum ", count: 8) + "Ref INV-654321\r\n").utf8))
        XCTAssertEqual(twice.counts["project"], 2, "\(twice.findings)")
    }

    func testMalformedMessagesAreScannedAsFarAsTheyGo() throws {
        let broken = "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!NDExMSAxMTExIDExMTEgMTExMQ\r\n--x\r\nContent-Type: text/plain\r\n\r\n536-22-1234\r\n"
        let report = try scanner().scan(Array(broken.utf8))
        XCTAssertEqual(Set(report.findings.map(\.detector)), ["credit_card", "us_ssn"], "\(report.findings)")
        // Deep nesting stops at the limit instead of recursing without end.
        var deep = ""
        for i in 0..<50 { deep += "Content-Type: multipart/mixed; boundary=b\(i)\r\n\r\n--b\(i)\r\n" }
        deep += "Content-Type: text/plain\r\n\r\n4111 1111 1111 1111\r\n"
        let r = try scanner().scan(Array(deep.utf8))
        XCTAssertTrue(r.truncated)
    }

    func testProfileErrorsHaveTheirPosition() {
        XCTAssertThrowsError(try DLPBook.parse(yaml: "profiles:\n  p:\n    detectors: [credit_cards]\n", file: "/r/dlp.yaml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/r/dlp.yaml:3:16: "), "\(e)")
            XCTAssertTrue("\(e)".contains("unknown detector 'credit_cards'"), "\(e)")
        }
        XCTAssertThrowsError(try DLPBook.parse(yaml: "profiles:\n  p:\n    custom: [ { name: x, regex: \"(\" } ]\n", file: "/r/dlp.yaml")) { e in
            XCTAssertTrue("\(e)".contains("not a pattern vectorscan accepts"), "\(e)")
        }
    }
}
