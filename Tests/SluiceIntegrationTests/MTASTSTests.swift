// MTA-STS end to end (R-DELIVER-6): a PKI made with the openssl tool, an
// HTTPS policy server (Tests/interop/mta_sts_server.py, Python's ssl) whose
// host names the fixture DNS resolves, and next hops that are Sluice
// daemons: one with a certificate from the test CA for mx.good.test, one
// without STARTTLS. Enforce with a matching, verified MX delivers over TLS;
// an MX outside the policy, a certificate for another name and a stripped
// STARTTLS are deferred and never sent; testing delivers; the policy is
// fetched once, and after the policy server stops and the relay restarts the
// cached policy is still enforced.

import Foundation
import SluiceTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The policy server, started with its stderr (one line per request) in a file.
final class PolicyServer {
    let process = Process()
    let port: Int
    let logFile: String

    init(cert: String, key: String, policies: String) throws {
        logFile = policies + "/requests.log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        defer { try? log.close() }  // the child has its own copy
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [MTLSTests.interop + "/mta_sts_server.py", cert, key, policies]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = log
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), let b = byte.first, b != 10 { line.append(b) }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "the policy server did not start: \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "")"])
        }
        port = p
    }

    /// The requests it answered for a host.
    func requests(for host: String) -> Int {
        ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.hasPrefix("GET \(host) ") }.count
    }

    func stop() { terminateAndWait(process) }

    deinit { stop() }
}

final class MTASTSTests: XCTestCase {
    static let policyDomains = ["good", "wrongmx", "badcert", "strip", "testing", "untrusted"]

    static var zone: String {
        var z = "$ORIGIN test.\n$TTL 60\n"
        for d in policyDomains {
            z += "\(d).test. IN MX 10 mx.\(d).test.\n"
            z += "_mta-sts.\(d).test. IN TXT \"v=STSv1; id=1\"\n"
            z += "mta-sts.\(d).test. IN A 127.0.0.1\n"
        }
        // good, wrongmx and badcert reach the TLS next hop; strip and testing the one without STARTTLS.
        z += "mx.good.test. IN A 127.0.0.1\nmx.wrongmx.test. IN A 127.0.0.1\nmx.badcert.test. IN A 127.0.0.1\n"
        z += "mx.strip.test. IN A 127.0.0.2\nmx.testing.test. IN A 127.0.0.2\n"
        // untrusted reaches a next hop whose certificate names it but comes from a CA nobody configured.
        z += "mx.untrusted.test. IN A 127.0.0.3\n"
        z += "plain.test. IN MX 10 mx.plain.test.\nmx.plain.test. IN A 127.0.0.2\n"
        return z
    }

    static func policy(_ mode: String, mx: String) -> String { "version: STSv1\r\nmode: \(mode)\r\nmx: \(mx)\r\nmax_age: 86400\r\n" }

    func testEnforceTestingCacheAndRestart() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), which("openssl") != nil else {
            throw XCTSkip("python3 or openssl missing; make test installs them")
        }
        let pki = NSTemporaryDirectory() + "sluice-sts-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: pki) }
        let policyHosts = Self.policyDomains.map { "mta-sts.\($0).test" }.joined(separator: ",")
        let (made, _, madeErr) = try runTool("/bin/sh", [MTLSTests.interop + "/make_server_pki.sh", pki, "mx=mx.good.test", "policy=\(policyHosts)"])
        XCTAssertEqual(made, 0, madeErr)
        let (otherMade, _, otherErr) = try runTool("/bin/sh", [MTLSTests.interop + "/make_server_pki.sh", pki + "/other", "mx=mx.untrusted.test"])
        XCTAssertEqual(otherMade, 0, otherErr)
        let policies = pki + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        for (domain, text) in [
            ("good", Self.policy("enforce", mx: "mx.good.test")), ("wrongmx", Self.policy("enforce", mx: "other.wrongmx.test")),
            ("badcert", Self.policy("enforce", mx: "*.badcert.test")), ("strip", Self.policy("enforce", mx: "mx.strip.test")),
            ("testing", Self.policy("testing", mx: "elsewhere.testing.test")), ("untrusted", Self.policy("enforce", mx: "mx.untrusted.test")),
        ] {
            try text.write(toFile: "\(policies)/mta-sts.\(domain).test.txt", atomically: true, encoding: .utf8)
        }
        let server = try PolicyServer(cert: pki + "/policy.pem", key: pki + "/policy.key", policies: policies)
        defer { server.stop() }
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: Self.zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }

        let port = freeLoopbackPort()
        let tlsHop = try sinkDaemon(port: port, extra: "tls: { certificate: \(pki)/mx.pem, key: \(pki)/mx.key }")
        let plainHop = try DaemonProcess(yaml: """
            networks: { trusted: [127.0.0.0/8] }
            listeners:
              - { name: relay, address: "127.0.0.2:\(port)", tls: none }
            """)
        try tlsHop.start()
        try plainHop.start()
        let untrustedHop = try sinkDaemon(address: "127.0.0.3", port: port, extra: "tls: { certificate: \(pki)/other/mx.pem, key: \(pki)/other/mx.key }")
        try untrustedHop.start()
        let relay = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 5s }
            delivery: { send_port: \(port), retry_schedule: [1s], ca_file: \(pki)/ca.pem, mta_sts: { https_port: \(server.port) } }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            """)
        try relay.writeRules("rules:\n  - name: out\n    then: [ send ]\n")
        try relay.start()

        func send(_ to: String, _ id: String) throws {
            let r = try TestSMTPClient.sendMessage(
                port: relay.port(), from: "app@example.test", to: to, message: "From: app@example.test\r\nMessage-ID: <\(id)@test>\r\nSubject: \(id)\r\n\r\nhello\r\n")
            XCTAssertEqual(r.code, 250, r.text)
        }
        for d in Self.policyDomains + ["plain"] { try send("u@\(d).test", d) }

        // Enforce, matching MX, certificate verified for its name: delivered over TLS, the policy named.
        XCTAssertTrue(waitUntil(30) { messageIDs([tlsHop]).contains("<good@test>") }, relay.log())
        // The next hop stores the message before its 250 reaches the relay, which logs the delivery after it.
        let line = { relay.log().split(separator: "\n").first { $0.contains("\"event\":\"delivered\"") && $0.contains("u@good.test") } }
        XCTAssertTrue(waitUntil(30) { line() != nil }, relay.log())
        let delivered = line() ?? ""
        XCTAssertTrue(delivered.contains("verified (system roots and \(pki)/ca.pem)"), String(delivered))
        // Testing delivers though the MX is outside its list and offers no TLS; a domain without a policy as before.
        XCTAssertTrue(waitUntil(30) { Set(messageIDs([plainHop])) == ["<testing@test>", "<plain@test>"] }, relay.log())

        // An MX outside the policy, a certificate for another name, STARTTLS stripped: deferred, retried, never sent.
        XCTAssertTrue(relay.waitForLog("No MX host of wrongmx.test may be used under its TLS policy: mx.wrongmx.test is not an MX host the policy allows (mta-sts enforce, mx: other.wrongmx.test)", timeout: 30), relay.log())
        XCTAssertTrue(relay.waitForLog("TLS handshake failed", timeout: 30), relay.log())
        XCTAssertTrue(relay.waitForLog("TLS required but the server does not offer STARTTLS", timeout: 30), relay.log())
        let deferrals = { relay.log().split(separator: "\n").filter { $0.contains("\"event\":\"deferred\"") } }
        XCTAssertTrue(waitUntil(30) { ["wrongmx", "badcert", "strip", "untrusted"].allSatisfy { d in deferrals().filter { $0.contains("\(d).test") }.count >= 2 } }, relay.log())
        XCTAssertTrue(deferrals().filter { $0.contains("u@untrusted.test") }.allSatisfy { $0.contains("4.7.5") }, relay.log())
        XCTAssertEqual(untrustedHop.outboxFiles().count, 0, "a certificate from an unknown CA gets nothing")
        XCTAssertTrue(deferrals().filter { $0.contains("badcert.test") }.allSatisfy { $0.contains("4.7.5") }, relay.log())
        XCTAssertFalse(relay.log().contains("\"event\":\"failed\""), "nothing the policy forbids is bounced before max_delivery_time")
        XCTAssertEqual(Set(messageIDs([tlsHop])), ["<good@test>"])
        XCTAssertEqual(Set(messageIDs([plainHop])), ["<testing@test>", "<plain@test>"])

        // `sluice queue show` names the policy a deferred message's last attempt followed.
        let (_, list, _) = try relay.cli(["queue", "list", "--json"])
        let entries = ((try? JSONSerialization.jsonObject(with: Data(list.utf8)) as? [String: Any])?["messages"] as? [[String: Any]]) ?? []
        let badcert = try XCTUnwrap(entries.first { "\($0)".contains("u@badcert.test") }?["id"] as? String, list)
        let (_, show, _) = try relay.cli(["queue", "show", badcert, "--json"])
        XCTAssertTrue(show.contains("tls_policy") && show.contains("mta-sts enforce"), show)

        // A second message to good.test: no second fetch.
        try send("v@good.test", "good2")
        XCTAssertTrue(waitUntil(30) { messageIDs([tlsHop]).contains("<good2@test>") }, relay.log())
        // The next hop stores the message before its 250 reaches the relay, which records the session after it.
        XCTAssertTrue(waitUntil(30) { relay.log().split(separator: "\n").contains { $0.contains("\"event\":\"delivered\"") && $0.contains("v@good.test") } })
        XCTAssertEqual(server.requests(for: "mta-sts.good.test"), 1)
        let (statusCode, status, _) = try relay.cli(["status", "--json"])
        XCTAssertEqual(statusCode, 0)
        XCTAssertTrue(status.contains("\"mta_sts\"") && status.contains("good.test"), status)

        // The day's TLS-RPT reports, made on demand: sessions per policy domain, failures by type.
        let (rptCode, rpt, rptErr) = try relay.cli(["tlsrpt", "send", "--json"])
        XCTAssertEqual(rptCode, 0, rptErr)
        let files = ((try? JSONSerialization.jsonObject(with: Data(rpt.utf8)) as? [String: Any])?["reports"] as? [String: String]) ?? [:]
        func report(_ domain: String) -> [String: Any] {
            guard let path = files[domain], let data = FileManager.default.contents(atPath: path) else { return [:] }
            return ((try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["policies"] as? [[String: Any]])?.first ?? [:]
        }
        XCTAssertEqual((report("good.test")["policy"] as? [String: Any])?["policy-type"] as? String, "sts", rpt)
        XCTAssertGreaterThanOrEqual((report("good.test")["summary"] as? [String: Int])?["total-successful-session-count"] ?? 0, 2, rpt)
        func failureTypes(_ domain: String) -> [String] { ((report(domain)["failure-details"] as? [[String: Any]]) ?? []).compactMap { $0["result-type"] as? String } }
        XCTAssertEqual(failureTypes("badcert.test"), ["certificate-host-mismatch"])
        XCTAssertEqual(failureTypes("untrusted.test"), ["certificate-not-trusted"])
        XCTAssertEqual(failureTypes("strip.test"), ["starttls-not-supported"])
        XCTAssertEqual(failureTypes("wrongmx.test"), ["validation-failure"])
        XCTAssertEqual(failureTypes("testing.test"), ["starttls-not-supported"], "testing delivered in clear, and says so")

        // The policy server goes away and the relay restarts: the cached policy is still enforced.
        server.stop()
        XCTAssertEqual(relay.stop(), 0)
        try relay.start()
        try send("w@good.test", "good3")
        XCTAssertTrue(waitUntil(30) { messageIDs([tlsHop]).contains("<good3@test>") }, relay.log())
        let afterRestart = relay.log().split(separator: "\n").filter { $0.contains("\"event\":\"delivered\"") && $0.contains("w@good.test") }
        XCTAssertTrue(afterRestart.contains { $0.contains("policy mta-sts enforce") }, relay.log())

        // TLS-Required: No (RFC 8689 §5): the domain's policy set aside; delivered to the host without STARTTLS.
        let r = try TestSMTPClient.sendMessage(
            port: relay.port(), from: "app@example.test", to: "x@strip.test",
            message: "From: app@example.test\r\nTLS-Required: No\r\nMessage-ID: <waived@test>\r\nSubject: w\r\n\r\nhello\r\n")
        XCTAssertEqual(r.code, 250)
        XCTAssertTrue(waitUntil(30) { messageIDs([plainHop]).contains("<waived@test>") }, relay.log())
        XCTAssertTrue(waitUntil(30) { relay.log().split(separator: "\n").contains { $0.contains("x@strip.test") && $0.contains("policy TLS-Required: No") } }, relay.log())
    }
}
