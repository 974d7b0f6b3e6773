// Webhook delivery end to end (issue 28): a receiver nobody here wrote
// (Python's http.server, Tests/interop/webhook_server.py) checks every
// request's Sluice-Signature and validates its body against
// docs/webhook.schema.json. 503 twice, then 200: delivered once, on the
// queue's retries; 410: failed, and the sender's DSN says X-HTTP; 410 Gone.

import Foundation
import XCTest

final class WebhookTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop").standardizedFileURL.path
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/webhook.schema.json")
        .standardizedFileURL.path

    final class Receiver {
        let process = Process()
        let directory: String
        var port = 0
        var logFile: String { directory + "/requests.jsonl" }

        init(secret: String, scripts: [String]) throws {
            directory = NSTemporaryDirectory() + "sluice-webhook-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // The python3 on PATH: the one `make test` installs jsonschema into.
            process.executableURL = URL(fileURLWithPath: which("python3") ?? "/usr/bin/python3")
            process.arguments = [WebhookTests.interop + "/webhook_server.py", directory + "/port", logFile, secret, WebhookTests.schema] + scripts
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            guard waitUntil(10, { FileManager.default.fileExists(atPath: self.directory + "/port") }),
                let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), let p = Int(text)
            else { throw XCTSkip("the Python webhook receiver did not start") }
            port = p
        }

        var requests: [[String: Any]] {
            let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        deinit {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func testSignedJSONRetriedOn503AndBouncedOn410() throws {
        let secret = "a webhook secret of some length"
        let receiver = try Receiver(secret: secret, scripts: ["/tickets=503,503,200", "/gone=410"])
        let key = NSTemporaryDirectory() + "sluice-webhook-\(UUID().uuidString.prefix(8)).key"
        try (secret + "\n").write(toFile: key, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        defer { try? FileManager.default.removeItem(atPath: key) }
        let d = try DaemonProcess(yaml: """
            local_domains: [example.org]
            webhooks:
              tickets: { url: "http://127.0.0.1:\(receiver.port)/tickets", secret_file: "\(key)", timeout: 5s, headers: { X-Tenant: acme } }
              gone: { url: "http://127.0.0.1:\(receiver.port)/gone", secret_file: "\(key)" }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default, verify: [] }
            """)
        try d.writeRules("""
            rules:
              - name: support-desk
                when: [ { recipient: { domain: [tickets.example] } } ]
                then: [ { webhook: tickets }, stop ]
              - name: gone
                when: [ { recipient: { domain: [gone.example] } } ]
                then: [ { webhook: gone }, stop ]
              - name: rest
                then: [ { store: var/outbox } ]
            """)
        let (checked, _, checkErr) = try d.cli(["check"])
        XCTAssertEqual(checked, 0, checkErr)
        XCTAssertTrue(checkErr.contains("webhook tickets: http://127.0.0.1:\(receiver.port)/tickets is plain http"), checkErr)
        try d.start()

        // 503, 503, 200: delivered once, by the queue's retries.
        let body = "From: alice@example.org\r\nSubject: printer on fire\r\nMessage-ID: <hook-1@example.org>\r\n\r\nplease help\r\n"
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "alice@example.org", to: "desk@tickets.example", message: body).code, 250)
        XCTAssertTrue(waitUntil { receiver.requests.count == 1 && d.log().contains("\"event\":\"deferred\"") }, d.log())
        XCTAssertEqual(try d.cli(["queue", "retry", "--all"]).0, 0)
        XCTAssertTrue(waitUntil { receiver.requests.count == 2 }, d.log())
        XCTAssertTrue(waitUntil { d.log().components(separatedBy: "\"event\":\"deferred\"").count - 1 == 2 }, d.log())
        XCTAssertEqual(try d.cli(["queue", "retry", "--all"]).0, 0)
        XCTAssertTrue(waitUntil { d.log().contains("\"event\":\"delivered\"") }, d.log())
        let tickets = receiver.requests.filter { $0["path"] as? String == "/tickets" }
        XCTAssertEqual(tickets.map { $0["code"] as? Int }, [503, 503, 200])
        for r in tickets {
            XCTAssertEqual(r["verified"] as? Bool, true, "signature: \(r)")
            XCTAssertTrue(r["schema_error"] is NSNull, "schema: \(r["schema_error"] ?? "")")
            XCTAssertEqual(r["tenant"] as? String, "acme")
        }
        let doc = try XCTUnwrap(tickets.last?["doc"] as? [String: Any])
        XCTAssertEqual((doc["envelope"] as? [String: Any])?["to"] as? [String], ["desk@tickets.example"])
        XCTAssertEqual((doc["envelope"] as? [String: Any])?["from"] as? String, "alice@example.org")
        XCTAssertEqual(doc["webhook"] as? String, "tickets")
        XCTAssertEqual(doc["rule"] as? String, "support-desk")
        let message = String(decoding: try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(doc["message_base64"] as? String))), as: UTF8.self)
        XCTAssertTrue(message.hasPrefix("Received: from "), message)
        XCTAssertTrue(message.hasSuffix(body), message)
        XCTAssertEqual(doc["size"] as? Int, message.utf8.count)

        // 410: failed for good; the sender's DSN names the HTTP answer.
        XCTAssertEqual(
            try TestSMTPClient.sendMessage(port: d.port(), from: "alice@example.org", to: "old@gone.example",
                message: "From: alice@example.org\r\nSubject: to a gone hook\r\n\r\nx\r\n").code, 250)
        let dsns = d.waitForOutbox(count: 1)
        let dsn = String(decoding: try XCTUnwrap(dsns.first), as: UTF8.self)
        XCTAssertTrue(dsn.contains("Final-Recipient: rfc822; old@gone.example"), dsn)
        XCTAssertTrue(dsn.contains("Diagnostic-Code: X-HTTP; 410 Gone"), dsn)
        XCTAssertTrue(dsn.contains("Remote-MTA: dns; 127.0.0.1"), dsn)
        XCTAssertEqual(receiver.requests.filter { $0["path"] as? String == "/gone" }.count, 1)
        XCTAssertEqual(d.stop(), 0)
    }

    /// A receiver that does not answer within the timeout, or redirects: retried, never followed, never lost.
    func testSlowAndRedirectingReceiversAreRetried() throws {
        let secret = "a webhook secret of some length"
        let receiver = try Receiver(secret: secret, scripts: ["/slow=sleep5", "/moved=302"])
        let key = NSTemporaryDirectory() + "sluice-webhook-\(UUID().uuidString.prefix(8)).key"
        try secret.write(toFile: key, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: key) }
        let d = try DaemonProcess(yaml: """
            webhooks:
              slow: { url: "http://127.0.0.1:\(receiver.port)/slow", secret_file: "\(key)", timeout: 1s }
              moved: { url: "http://127.0.0.1:\(receiver.port)/moved", secret_file: "\(key)" }
            delivery: { retry_schedule: [1h] }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default, verify: [] }
            """)
        try d.writeRules("""
            rules:
              - name: slow
                when: [ { recipient: { domain: [slow.example] } } ]
                then: [ { webhook: slow }, stop ]
              - name: moved
                then: [ { webhook: moved } ]
            """)
        try d.start()
        for to in ["a@slow.example", "b@moved.example"] {
            XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "x@example.org", to: to, message: "Subject: hook\r\n\r\nx\r\n").code, 250)
        }
        XCTAssertTrue(waitUntil { d.log().components(separatedBy: "\"event\":\"deferred\"").count - 1 == 2 }, d.log())
        XCTAssertTrue(d.log().contains("Webhook not reached: timed out"), d.log())
        XCTAssertTrue(d.log().contains("302 Found"), d.log())
        XCTAssertFalse(receiver.requests.contains { $0["path"] as? String == "/elsewhere" }, "a redirect is not followed")
        let (_, list, _) = try d.cli(["queue", "list"])
        XCTAssertTrue(list.contains("a@slow.example") && list.contains("b@moved.example"), "both wait in the queue: \(list)")
        XCTAssertFalse(d.log().contains("\"event\":\"failed\""), d.log())
    }
}
