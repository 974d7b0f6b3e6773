// The evaluator, table-driven: every condition and operator, unless, any:,
// per-recipient divergence and each terminating action.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceRules

final class RuleEvaluatorTests: XCTestCase {
    let dir = NSTemporaryDirectory() + "sluice-rules-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: dir + "/lists", withIntermediateDirectories: true)
        try "# finance\nalice@corp.test\n@finance.test\n@.partners.test\n".write(toFile: dir + "/lists/finance.txt", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func load(_ yaml: String) throws -> RuleSet {
        var loader = RuleLoader(rulesDirectory: dir, resolvePath: { "/abs/" + $0 })
        return try loader.parse(yaml: yaml, file: dir + "/t.yaml", name: "t")
    }

    func context(
        sender: String? = "app@corp.test", headers: String = "From: App <app@corp.test>\r\nTo: b@x.test\r\nSubject: Quarterly invoice =?UTF-8?B?w7w=?=\r\n",
        ip: String = "192.0.2.10", tls: String? = nil, user: String? = nil, size: Int = 1000, listener: String = "relay"
    ) -> RuleContext {
        var c = ClientInfo(address: IPAddress(ip), listener: listener)
        c.tlsVersion = tls
        c.authenticatedUser = user
        c.helo = "mta.corp.test"
        let s = sender.map { t -> MailAddress in
            let at = t.lastIndex(of: "@")!
            return MailAddress(localPart: String(t[..<at]), domain: String(t[t.index(after: at)...]))
        }
        return RuleContext(sender: s, client: c, headers: MessageHeaders(parsing: Array(headers.utf8)), size: size)
    }

    let rcpt = MailAddress(localPart: "b", domain: "x.test")

    /// Whether a one-rule set with this `when` condition matches.
    func matches(_ condition: String, _ ctx: RuleContext? = nil, recipient: MailAddress? = nil) throws -> Bool {
        let set = try load("rules:\n  - name: r\n    when:\n      - \(condition)\n    then: [ stop ]\n")
        return RuleEvaluator.evaluate(set, recipient: recipient ?? rcpt, context: ctx ?? context()).trace[0].matched
    }

    func testUnscannableAttachmentsAsAVerdict() throws {
        var ctx = context()
        XCTAssertFalse(try matches("dlp: { unscannable: true }", ctx), "a message not inspected has nothing unscannable")
        XCTAssertTrue(try matches("dlp: { unscannable: false }", ctx))
        var inspection = InspectionResults()
        inspection.unscannable = [UnscannableRecord(path: "files.zip/secret.txt", reason: .encrypted, detail: "encrypted zip entry")]
        ctx.verdicts.inspection = inspection
        XCTAssertTrue(try matches("dlp: { unscannable: true }", ctx))
        XCTAssertFalse(try matches("dlp: { unscannable: false }", ctx))
        XCTAssertTrue(try matches("dlp: { unscannable: [bomb, encrypted] }", ctx))
        XCTAssertFalse(try matches("dlp: { unscannable: corrupt }", ctx))
    }

    func testEveryConditionAndOperator() throws {
        let table: [(String, Bool)] = [
            ("sender: app@corp.test", true),
            ("sender: APP@CORP.TEST", true),
            ("sender: { equals: [x@y.test, app@corp.test] }", true),
            ("sender: { contains: corp }", true),
            ("sender: { starts_with: app@ }", true),
            ("sender: { ends_with: .test }", true),
            ("sender: { domain: corp.test }", true),
            ("sender: { domain: .test }", true),
            ("sender: { domain: other.test }", false),
            ("sender: { matches: '^a.p@' }", true),
            ("sender: { in_list: finance }", false),
            ("recipient: { domain: x.test }", true),
            ("recipient: b@other.test", false),
            ("from: { domain: corp.test }", true),
            ("from: { contains: 'App <' }", false),
            ("to: { equals: b@x.test }", true),
            ("cc: { contains: x }", false),
            ("subject: { contains: invoice }", true),
            ("subject: { contains: 'invoice ü' }", true),
            ("subject: { starts_with: QUARTERLY }", true),
            ("header: { name: Subject, matches: 'invoice' }", true),
            ("header: { name: X-Missing, contains: a }", false),
            ("helo: { ends_with: corp.test }", true),
            ("listener: relay", true),
            ("listener: submission", false),
            ("user: { equals: app }", false),
            ("size: { gt: 999 }", true),
            ("size: { gt: 1000 }", false),
            ("size: { lt: 1KB }", true),
            ("client_ip: [192.0.2.0/24]", true),
            ("client_ip: 10.0.0.0/8", false),
            ("tls: false", true),
            ("tls: true", false),
            ("tls_version: TLSv1.2", false),
            ("authenticated: false", true),
            ("any: [ { sender: x@y.test }, { listener: relay } ]", true),
            ("any: [ { sender: x@y.test }, { listener: other } ]", false),
        ]
        for (condition, expected) in table {
            XCTAssertEqual(try matches(condition), expected, condition)
        }
        let tlsUser = context(tls: "TLSv1.3", user: "App")
        XCTAssertTrue(try matches("tls_version: TLSv1.2", tlsUser))
        XCTAssertTrue(try matches("user: { equals: app }", tlsUser))
        XCTAssertTrue(try matches("authenticated: true", tlsUser))
        for (sender, listed) in [("alice@corp.test", true), ("bob@finance.test", true), ("x@eu.partners.test", true), ("x@partners.test", false)] {
            XCTAssertEqual(try matches("sender: { in_list: finance }", context(sender: sender)), listed, sender)
        }
        XCTAssertFalse(try matches("sender: app@corp.test", context(sender: nil)))
    }

    func testUnlessAnyAndActionsPerRecipient() throws {
        let set = try load("""
            rules:
              - name: partners
                when: [ { recipient: { domain: partner.test } } ]
                then:
                  - add_header: { name: X-Route, value: partner }
                  - store: out/partner
              - name: tag-external
                when: [ { recipient: { domain: [partner.test, other.test] } } ]
                unless: [ { sender: { in_list: finance } } ]
                then: [ { tag_subject: "[EXT]" } ]
              - name: rewrite
                when: [ { recipient: legacy@corp.test } ]
                then: [ { replace_recipient: { with: [new@corp.test] } }, { store: out/main } ]
              - name: catch-all
                when: [ { recipient: { domain: [partner.test, corp.test] } } ]
                then: [ { store: out/main } ]
            """)
        let ctx = context()
        let partner = RuleEvaluator.evaluate(set, recipient: MailAddress(localPart: "p", domain: "partner.test"), context: ctx)
        XCTAssertEqual(partner.trace.map(\.matched), [true, true, false, true])
        XCTAssertEqual(partner.addHeaders, ["X-Route: partner"])
        XCTAssertEqual(partner.subjectTags, ["[EXT]"])
        XCTAssertEqual(partner.deliveries.map(\.target), [.store(directory: "/abs/out/partner"), .store(directory: "/abs/out/main")])
        let legacy = RuleEvaluator.evaluate(set, recipient: MailAddress(localPart: "legacy", domain: "corp.test"), context: ctx)
        XCTAssertEqual(legacy.deliverTo.map(\.description), ["new@corp.test"])
        XCTAssertTrue(legacy.subjectTags.isEmpty)
        let finance = RuleEvaluator.evaluate(
            set, recipient: MailAddress(localPart: "p", domain: "partner.test"), context: context(sender: "bob@finance.test"))
        XCTAssertEqual(finance.trace[1].why, "unless sender in_list finance: yes")
        XCTAssertTrue(finance.subjectTags.isEmpty)
        let nobody = RuleEvaluator.evaluate(set, recipient: MailAddress(localPart: "z", domain: "else.test"), context: ctx)
        XCTAssertTrue(nobody.deliveries.isEmpty)

        // Two recipients, two routes, one plan.
        let plan = RulesPlanner.plan([partner, legacy, nobody])
        XCTAssertEqual(plan.routes.count, 3)
        XCTAssertEqual(plan.dropped.map(\.description), ["z@else.test"])
        let main = plan.routes.filter { $0.target == .store(directory: "/abs/out/main") }
        XCTAssertEqual(main.flatMap(\.recipients).map(\.description).sorted(), ["new@corp.test", "p@partner.test"])
    }

    func testTerminatingActions() throws {
        let set = try load("""
            rules:
              - name: drop-noreply
                when: [ { recipient: { starts_with: noreply@ } } ]
                then: [ drop, { store: never } ]
              - name: reject-big
                when: [ { size: { gt: 10KB } } ]
                then: [ { reject: { code: 552, status: 5.3.4, message: too big } }, { store: never } ]
              - name: quarantine-exe
                when: [ { subject: { contains: invoice } } ]
                then: [ quarantine ]
              - name: stop-here
                when: [ { recipient: { domain: stop.test } } ]
                then: [ { store: stopped }, stop ]
              - name: all
                then: [ { store: main } ]
            """)
        let drop = RuleEvaluator.evaluate(set, recipient: MailAddress(localPart: "noreply", domain: "x.test"), context: context())
        XCTAssertTrue(drop.dropped)
        XCTAssertEqual(drop.trace.count, 1)
        let big = RuleEvaluator.evaluate(set, recipient: rcpt, context: context(size: 20_000))
        XCTAssertEqual(big.reject?.reply.code, 552)
        XCTAssertTrue(big.deliveries.isEmpty)
        let q = RuleEvaluator.evaluate(set, recipient: rcpt, context: context())
        XCTAssertTrue(q.quarantined)
        XCTAssertEqual(q.deliveries.map(\.target), [.store(directory: "/abs/main")])
        XCTAssertTrue(RulesPlanner.plan([q]).routes[0].held)
        let stopped = RuleEvaluator.evaluate(set, recipient: MailAddress(localPart: "a", domain: "stop.test"), context: context(headers: "Subject: hi\r\n"))
        XCTAssertEqual(stopped.deliveries.map(\.target), [.store(directory: "/abs/stopped")])
        XCTAssertEqual(stopped.trace.last?.rule, "stop-here")
    }
}
