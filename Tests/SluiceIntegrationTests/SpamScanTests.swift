// SpamAssassin's spamd as a scan stage (issue 27): a real spamd with the
// rules Debian ships, local tests only; GTUBE is refused by a rule testing
// its score and symbol; ordinary mail is delivered with X-Spam-Status and
// X-Spam-Score added by `spam_headers: true`; with spamd stopped, `on_error:
// tempfail` answers 451 4.7.1; a rule testing `spam:` without a scanner
// fails to load with its position.

import Foundation
import SluiceTestSupport
import XCTest

final class SpamScanTests: XCTestCase {
    func testGTUBEIsRefusedAndHamIsTagged() throws {
        let spamd: SpamdInstance
        do { spamd = try SpamdInstance() } catch let e as SpamdUnavailable { return XCTFail(e.description) }
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            scanners:
              spam: { spamd: "127.0.0.1:\(spamd.port)", timeout: 20s, on_error: tempfail }
            """)
        try d.writeRules("""
            rules:
              - name: gtube
                when: [ { spam: { score: { gt: 500 } } }, { spam: { symbol: GTUBE } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "spam" } } ]
              - name: tag
                when: [ { spam: false } ]
                then: [ { spam_headers: true }, { store: var/outbox }, stop ]
              - name: deliver
                then: [ { store: var/outbox } ]
            """)
        try d.start()
        let headers = "From: alice@example.test\r\nTo: bob@example.org\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n"
        var r = try TestSMTPClient.sendMessage(port: d.port(), message: headers + "Subject: offer\r\n\r\n\(SpamdInstance.gtube)\r\n")
        XCTAssertEqual(r.code, 550, r.text)
        r = try TestSMTPClient.sendMessage(port: d.port(), message: headers + "Subject: lunch\r\n\r\nShall we have lunch on Thursday?\r\n")
        XCTAssertEqual(r.code, 250, r.text)
        let delivered = String(decoding: d.waitForOutbox(count: 1).first ?? Data(), as: UTF8.self)
        XCTAssertTrue(delivered.contains("X-Spam-Status: No, score="), delivered)
        XCTAssertTrue(delivered.contains("X-Spam-Score: "), delivered)
        XCTAssertTrue(d.log().contains("GTUBE"), "the rules that hit are logged")

        spamd.stop()
        r = try TestSMTPClient.sendMessage(port: d.port(), message: headers + "Subject: later\r\n\r\nhello\r\n")
        XCTAssertEqual(r.code, 451, r.text)
        XCTAssertTrue(r.text.contains("4.7.1"), r.text)
        XCTAssertEqual(d.outboxFiles().count, 1)
    }

    func testASpamRuleNeedsAScanner() throws {
        let d = try DaemonProcess(yaml: "listeners:\n  - { name: relay, address: \"127.0.0.1:0\", tls: none, rules: default }\n")
        try d.writeRules("rules:\n  - name: s\n    when: [ { spam: true } ]\n    then: [ { reject: { code: 550, status: 5.7.1 } } ]\n")
        let (status, _, err) = try d.cli(["check"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(err.contains("default.yaml:3:") && err.contains("no spam scanner is configured"), err)
    }
}
