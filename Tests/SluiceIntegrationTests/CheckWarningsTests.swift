// `sluice check` says what is valid but will not do what the administrator
// expects (issue 20): rules that test SPF/DKIM/DMARC on a listener that does
// not verify, and a domain whose keys are all inactive. Exit status stays 0.

import Foundation
import XCTest

final class CheckWarningsTests: XCTestCase {
    func testCheckWarnsAboutUnverifiedConditionsAndInactiveKeys() throws {
        let d = try DaemonProcess(yaml: """
            dkim:
              - { domain: example.test, selector: s2, algorithm: ed25519-sha256, key: var/dkim/example.test.s2.pem, state: publish-only }
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, rules: default }
              - { name: verified, address: "127.0.0.1:0", tls: none, verify: [spf, dkim, dmarc], rules: default }
            """)
        try d.writeRules("""
            rules:
              - name: dmarc-reject
                when: [ { dmarc_policy: reject } ]
                then: [ { reject: { code: 550, status: 5.7.1, message: "DMARC says reject" } } ]
              - name: all
                then: [ { store: var/outbox } ]
            """)
        let (status, _, err) = try d.cli(["check"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(err.contains("warning: listener mx: rule set 'default' tests dmarc_policy but the listener does not verify"), err)
        XCTAssertFalse(err.contains("listener verified:"), err)
        XCTAssertTrue(err.contains("warning: dkim: example.test has keys but none is active"), err)
    }
}
