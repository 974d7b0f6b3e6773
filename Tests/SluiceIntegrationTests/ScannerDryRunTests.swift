// `sluice rules test` with the scanners' and DNS lists' verdicts given on the
// command line (issue 27): --spam-score/--spam-symbol, --virus and --dnsbl
// decide the rules that test them, as --spf does for verification; without
// them, a configured scanner is asked (here: none runs, and the dry run says
// the scanner is unavailable, as the daemon would answer 451).

import Foundation
import XCTest

final class ScannerDryRunTests: XCTestCase {
    func testGivenVerdictsDecideTheRules() throws {
        let d = try DaemonProcess(yaml: """
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            scanners:
              spam: { spamd: "127.0.0.1:1", timeout: 2s, on_error: tempfail }
              virus: { socket: /nonexistent/clamd.ctl, timeout: 2s, on_error: accept }
            dnsbl:
              zen: { zone: zen.test }
            """)
        try d.writeRules("""
            rules:
              - name: listed
                when: [ { dnsbl: zen } ]
                then: [ { reject: { code: 554, status: 5.7.1, message: "listed" } } ]
              - name: infected
                when: [ { virus: { name: { starts_with: Eicar } } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "virus" } } ]
              - name: spammy
                when: [ { spam: { symbol: BAYES_99 } } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "spam" } } ]
              - name: tag
                then: [ { spam_headers: true }, { store: var/outbox } ]
            """)
        let eml = d.root + "/m.eml"
        try "From: a@example.test\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n".write(toFile: eml, atomically: true, encoding: .utf8)
        func test(_ extra: [String]) throws -> String {
            let (status, out, err) = try d.cli(["rules", "test", eml] + extra)
            XCTAssertEqual(status, 0, err)
            return out
        }
        var out = try test(["--dnsbl", "zen=127.0.0.4", "--spam-score", "1"])
        XCTAssertTrue(out.contains("MATCH    listed"), out)
        out = try test(["--virus", "Eicar-Test-Signature", "--spam-score", "1"])
        XCTAssertTrue(out.contains("MATCH    infected"), out)
        out = try test(["--spam-score", "9.5", "--spam-symbol", "BAYES_99", "--spam-symbol", "HTML_MESSAGE"])
        XCTAssertTrue(out.contains("MATCH    spammy"), out)
        out = try test(["--spam-score", "0.4"])
        XCTAssertTrue(out.contains("X-Spam-Status: No, score=0.4 required=5.0"), out)
        // No verdict given: spamd is asked; it is not there, and on_error: tempfail refuses as the daemon would.
        out = try test([])
        XCTAssertTrue(out.contains("451") && out.contains("Spam scanner unavailable"), out)
    }
}
