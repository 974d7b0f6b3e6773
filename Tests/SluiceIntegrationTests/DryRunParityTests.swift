// `sluice rules test` gives the daemon's answer (R-CORE-1): a corpus of 36
// messages (attachments, DLP hits, SPF/DKIM/DMARC verdicts, one to three
// recipients) goes through the daemon — verdicts from the fixture DNS server,
// the client's address from the PROXY protocol — and through `sluice rules
// test --json` with the same verdicts given as flags. Per recipient the rules
// that matched and the actions must be the same, and so must the answer.

import Foundation
import SluiceTestSupport
import XCTest

final class DryRunParityTests: XCTestCase {
    static let rules = """
        rules:
          - name: dmarc-reject
            when: [ { dmarc_policy: reject } ]
            then: [ { reject: { code: 550, status: 5.7.1, message: "DMARC policy says reject" } } ]
          - name: no-executables
            when: [ { attachment: { name: { ends_with: [.exe] } } } ]
            then: [ { reject: { code: 550, status: 5.7.1, message: "Executables are refused" } } ]
          - name: secrets
            when: [ { dlp: secrets } ]
            then: [ quarantine, { add_header: { name: X-DLP, value: secrets } } ]
          - name: cards-to-partner
            when: [ { dlp: pci }, { recipient: { domain: [partner.example] } } ]
            then: [ drop ]
          - name: spf-warning
            when: [ { spf: [softfail, fail] } ]
            then: [ { tag_subject: "[SPF]" } ]
          - name: dkim-none
            when: [ { dkim: none } ]
            then: [ { add_header: { name: X-DKIM, value: none } } ]
          - name: pdf-note
            when: [ { attachment: { type: [application/pdf] } } ]
            then: [ { add_header: { name: X-PDF, value: "yes" } } ]
          - name: deliver
            then: [ { store: var/outbox } ]
        """

    /// Sender domain, client address, and the verdicts the fixture zone gives them.
    struct Origin {
        var domain: String
        var ip: String
        var flags: [String]
    }

    static let origins = [
        Origin(domain: "pass.test", ip: "198.51.100.1", flags: ["--spf", "pass", "--dkim", "none", "--dmarc", "pass", "--dmarc-policy", "none"]),
        Origin(domain: "reject.test", ip: "203.0.113.9", flags: ["--spf", "fail", "--dkim", "none", "--dmarc", "fail", "--dmarc-policy", "reject"]),
        Origin(domain: "soft.test", ip: "203.0.113.9", flags: ["--spf", "softfail", "--dkim", "none", "--dmarc", "none"]),
        Origin(domain: "none.test", ip: "203.0.113.9", flags: ["--spf", "none", "--dkim", "none", "--dmarc", "none"]),
    ]

    static func message(_ i: Int, from: String, to: [String]) -> String {
        let boundary = "b\(i)"
        var body = "hello number \(i)\r\n"
        switch (i / 4) % 3 {
        case 1: body += "card 4111 1111 1111 1111 exp 12/29\r\n"
        case 2: body += "key AKIAIOSFODNN7EXAMPLE\r\n"
        default: break
        }
        var parts = "--\(boundary)\r\nContent-Type: text/plain\r\n\r\n\(body)"
        switch i % 4 {
        case 1: parts += "--\(boundary)\r\nContent-Type: application/pdf; name=report.pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        case 2: parts += "--\(boundary)\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=tool.exe\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n"
        case 3: parts += "--\(boundary)\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nplain notes\r\n"
        default: break
        }
        parts += "--\(boundary)--\r\n"
        return "From: <someone@\(from)>\r\nTo: \(to.joined(separator: ", "))\r\nSubject: corpus \(i)\r\nMessage-ID: <parity-\(i)@\(from)>\r\n"
            + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n" + parts
    }

    func testDryRunAndDaemonDecideAlike() throws {
        let zone = """
            $ORIGIN test.
            $TTL 60
            pass.test.          IN TXT "v=spf1 ip4:198.51.100.1 -all"
            _dmarc.pass.test.   IN TXT "v=DMARC1; p=none"
            reject.test.        IN TXT "v=spf1 ip4:198.51.100.1 -all"
            _dmarc.reject.test. IN TXT "v=DMARC1; p=reject"
            soft.test.          IN TXT "v=spf1 ~all"

            """
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let d = try DaemonProcess(yaml: """
            dns: { nameserver: "127.0.0.1:\(dns.port)", timeout: 3s }
            local_domains: [example.org, partner.example]
            listeners:
              - { name: mx, address: "127.0.0.1:0", tls: none, proxy_protocol: true, proxy_from: [127.0.0.1/32],
                  verify: [spf, dkim, dmarc], rules: default }
            """)
        try d.writeRules(Self.rules)
        try """
            profiles:
              pci: { detectors: [credit_card] }
              secrets: { detectors: [aws_access_key_id, private_key] }
            """.write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.start()

        let recipientSets = [["u@example.org"], ["u@example.org", "p@partner.example"], ["p@partner.example", "z@example.org", "y@example.org"]]
        var compared = 0
        var answers: [Int: Int] = [:]
        var actions = Set<String>()
        for i in 0..<36 {
            let origin = Self.origins[i % 4 == 0 ? 0 : (i / 3) % 4]
            let to = recipientSets[(i / 12) % 3]
            let text = Self.message(i, from: origin.domain, to: to)
            let eml = d.root + "/m\(i).eml"
            try text.write(toFile: eml, atomically: true, encoding: .utf8)

            // The daemon: rule events of this message, one per recipient.
            let before = d.log().components(separatedBy: "\n").count
            let c = try TestSMTPClient(port: d.port("mx"))
            try c.write("PROXY TCP4 \(origin.ip) 127.0.0.1 40001 25\r\n")
            XCTAssertEqual(try c.reply().code, 220)
            try c.beginTransaction(helo: "client.example", from: "someone@\(origin.domain)", to: to)
            try c.write(text + ".\r\n")
            let reply = try c.reply()
            _ = try? c.command("QUIT")
            var events: [[String: Any]] = []
            XCTAssertTrue(waitUntil {
                events = d.log().components(separatedBy: "\n").dropFirst(before - 1).compactMap { line in
                    guard line.contains("\"event\":\"rule\"") else { return nil }
                    return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                }
                return events.count == to.count
            }, "message \(i): \(events)")
            let daemon = Dictionary(events.map { e in (e["recipient"] as? String ?? "", "\(e["rule"] ?? "") | \(e["actions"] ?? "")") }) { a, _ in a }

            // The dry run, with the verdicts the zone gives as flags.
            var args = ["rules", "test", eml, "--json", "--ip", origin.ip, "--listener", "mx", "--from", "someone@\(origin.domain)", "--helo", "client.example"]
            for r in to { args += ["--to", r] }
            let (status, out, err) = try d.cli(args + origin.flags)
            XCTAssertEqual(status, 0, err)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
            var dry: [String: String] = [:]
            for r in json["recipients"] as? [[String: Any]] ?? [] {
                let matched = (r["rules"] as? [[String: Any]] ?? []).filter { $0["matched"] as? Bool == true }.compactMap { $0["rule"] as? String }
                dry[r["recipient"] as? String ?? ""] = "\(matched.joined(separator: ",")) | \((r["actions"] as? [String] ?? []).joined(separator: "; "))"
            }
            XCTAssertEqual(dry, daemon, "message \(i) from \(origin.domain) to \(to)")
            answers[reply.code, default: 0] += 1
            for v in daemon.values { for a in v.split(separator: "|").last!.split(separator: ";") { actions.insert(a.trimmingCharacters(in: .whitespaces)) } }
            let result = json["result"] as? String ?? ""
            if reply.code == 250 {
                XCTAssertEqual(result, "accept", "message \(i): daemon \(reply.text)")
            } else {
                XCTAssertTrue(result.hasPrefix("reject \(reply.code)"), "message \(i): daemon \(reply.code), dry run \(result)")
            }
            compared += 1
        }
        XCTAssertEqual(compared, 36)
        // The corpus exercises accepts and refusals, and every kind of action of the rule set.
        XCTAssertGreaterThan(answers[250] ?? 0, 5, "\(answers)")
        XCTAssertGreaterThan(answers[550] ?? 0, 5, "\(answers)")
        for a in ["quarantine", "drop", "tag_subject [SPF]", "add_header X-PDF", "add_header X-DKIM", "store \(d.root)/var/outbox"] {
            XCTAssertTrue(actions.contains { $0.hasPrefix(a) }, "\(a) not exercised: \(actions)")
        }
    }
}
