// The loader: each kind of mistake gets file:line:column and a sentence.

import Foundation
import SluiceConfig
import SluiceCore
import SluiceDLP
import SluiceDelivery
import XCTest

@testable import SluiceRules

final class RuleLoaderTests: XCTestCase {
    func error(_ yaml: String) -> ConfigError? {
        var loader = RuleLoader(rulesDirectory: "/nonexistent", resolvePath: { $0 })
        do {
            _ = try loader.parse(yaml: yaml, file: "/r/default.yaml", name: "default")
            XCTFail("accepted:\n\(yaml)")
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testSendActionForms() throws {
        var loader = RuleLoader(rulesDirectory: "/nonexistent", resolvePath: { $0 })
        let set = try loader.parse(
            yaml: "rules:\n  - name: a\n    then: [ send ]\n  - name: b\n    then: [ { send: { on_failure: defer, max_delivery_time: 2h } } ]\n",
            file: "/r/default.yaml", name: "default")
        XCTAssertEqual((set.rules[0].actions[0] as? DeliverAction)?.delivery, Delivery(target: .send))
        XCTAssertEqual((set.rules[1].actions[0] as? DeliverAction)?.delivery, Delivery(target: .send, onFailure: .defer, maxDeliveryTime: 7200))
        let e = error("rules:\n  - name: a\n    then: [ { send: { via: x } } ]\n")
        XCTAssertEqual(e?.line, 3)
        XCTAssertTrue(e?.reason.contains("unknown key 'via'") ?? false, "\(String(describing: e))")
    }

    func testAuthenticationVerdictConditions() throws {
        var loader = RuleLoader(rulesDirectory: "/nonexistent", resolvePath: { $0 })
        let set = try loader.parse(
            yaml: "rules:\n  - name: a\n    when: [ { dmarc: fail }, { spf: [fail, softfail] } ]\n    then: [ drop ]\n  - name: b\n    then: [ { store: /tmp/x } ]\n",
            file: "/r/default.yaml", name: "default")
        let recipient = MailAddress(localPart: "u", domain: "example.org")
        func outcome(dmarc: AuthResult?, spf: AuthResult?) -> RecipientOutcome {
            var auth = AuthenticationResults()
            auth.dmarc = dmarc.map { DMARCVerdict(result: $0, fromDomain: "a.test") }
            auth.spf = spf.map { SPFVerdict(result: $0, identity: "a.test", scope: "mailfrom") }
            let context = RuleContext(
                sender: nil, client: ClientInfo(address: nil, listener: "mx"), headers: MessageHeaders(fields: []), size: 1,
                verdicts: MessageVerdicts(authentication: dmarc == nil && spf == nil ? nil : auth))
            return RuleEvaluator.evaluate(set, recipient: recipient, context: context)
        }
        XCTAssertTrue(outcome(dmarc: .fail, spf: .softfail).dropped)
        XCTAssertFalse(outcome(dmarc: .fail, spf: .pass).dropped)
        XCTAssertFalse(outcome(dmarc: nil, spf: nil).dropped, "no verdicts (listener without verify:) match nothing")
        let e = error("rules:\n  - name: a\n    when: [ { dkim: maybe } ]\n    then: [ drop ]\n")
        XCTAssertEqual(e?.line, 3)
        XCTAssertTrue(e?.reason.contains("'maybe' is not a dkim verdict") ?? false, "\(String(describing: e))")
    }

    func testARuleSetSaysWhetherItTestsAttachments() throws {
        var loader = RuleLoader(rulesDirectory: "/nonexistent", resolvePath: { $0 })
        let plain = try loader.parse(yaml: "rules:\n  - { name: a, when: [ { size: { gt: 1MB } } ], then: [ stop ] }\n", file: "/r/a.yaml", name: "a")
        XCTAssertFalse(plain.reads.contains(InspectionResults.name))
        let nested = try loader.parse(
            yaml: "rules:\n  - name: b\n    unless: [ { any: [ { attachment: { name: { ends_with: .exe } } } ] } ]\n    then: [ stop ]\n",
            file: "/r/b.yaml", name: "b")
        XCTAssertTrue(nested.reads.contains(InspectionResults.name))
    }

    func testErrorsPointAtTheMistake() {
        let cases: [(String, Int, Int, String)] = [
            ("rules:\n  - name: a\n    then: [ stop ]\n    whenn: []\n", 4, 5, "unknown key 'whenn'"),
            ("rules:\n  - then: [ stop ]\n", 2, 5, "every rule needs a 'name'"),
            ("rules:\n  - name: a\n", 2, 5, "needs a 'then:'"),
            ("rules:\n  - { name: a, then: [ stop ] }\n  - { name: a, then: [ stop ] }\n", 3, 13, "already named 'a'"),
            ("rules:\n  - name: a\n    when: [ { sender: { matches: '([' } } ]\n    then: [ stop ]\n", 3, 34, "not a valid regular expression"),
            ("rules:\n  - name: a\n    when: [ { client_ip: [10.0.0.0/33] } ]\n    then: [ stop ]\n", 3, 27, "not an IP network"),
            ("rules:\n  - name: a\n    when: [ { sender: { in_list: nosuch } } ]\n    then: [ stop ]\n", 3, 34, "address list 'nosuch' not found"),
            ("rules:\n  - name: a\n    when: [ { dlp: pci } ]\n    then: [ stop ]\n", 3, 20, "no DLP profile 'pci'"),
            ("rules:\n  - name: a\n    then: [ { relay: smarthost } ]\n", 3, 22, "upstream 'smarthost' is not defined"),
            ("rules:\n  - name: a\n    then: [ { archive: default } ]\n", 3, 24, "archive 'default' is not defined under archives:"),
            ("rules:\n  - name: a\n    then: [ { reject: { code: 250 } } ]\n", 3, 31, "between 400 and 599"),
            ("rules:\n  - name: a\n    then: [ { reject: { code: 550, status: 4.7.1 } } ]\n", 3, 44, "match the code's class"),
            ("rules:\n  - name: a\n    then: [ { add_header: { name: 'X Bad', value: v } } ]\n", 3, 35, "printable ASCII"),
            ("rules:\n  - name: a\n    then: [ { add_header: { name: X-A, value: \"a\\r\\nBcc: evil@x\" } } ]\n", 3, 47, "header injection"),
            ("rules:\n  - name: a\n    then: [ { replace_recipient: 'not an address' } ]\n", 3, 34, "not a valid address"),
            ("rules:\n  - name: a\n    when: [ { sender: a, recipient: b } ]\n    then: [ stop ]\n", 3, 13, "exactly one key"),
            ("rules:\n  - name: a\n    when: [ { subject: { domain: x } } ]\n    then: [ stop ]\n", 3, 34, "applies to addresses"),
            ("rules:\n  - name: a\n    then: [ bogus ]\n", 3, 13, "needs a value"),
            ("rules: [ {name: a\n", 2, 1, "YAML syntax"),
            ("rules:\n  - name: a\n    when: [ { dlp: { unscannable: [sealed] } } ]\n    then: [ stop ]\n", 3, 36, "'sealed' is none of them"),
            ("rules:\n  - name: a\n    when: [ { dlp: { unscannable: true, min_count: 2 } } ]\n    then: [ stop ]\n", 3, 20, "stands alone"),
        ]
        for (yaml, line, column, reason) in cases {
            guard let e = error(yaml) else { continue }
            XCTAssertEqual(e.file, "/r/default.yaml")
            XCTAssertEqual(e.line, line, "\(e)")
            XCTAssertEqual(e.column, column, "\(e)")
            XCTAssertTrue(e.reason.contains(reason), "\(e)")
        }
    }
}
