// Archives end to end: rules archive every message; `sluice archive` finds
// them by each filter and by full text (phrases, prefixes, RFC 2047 subjects
// by their decoded text), returns the bytes unchanged from show and export,
// writes an mbox that Python's mailbox module reads, and a kill -9 after the
// 250 still archives the message on restart.

import Foundation
import XCTest

final class ArchiveTests: XCTestCase {
    func archivingDaemon(extra: String = "") throws -> DaemonProcess {
        let d = try DaemonProcess(yaml: """
            archives:
              default: { retention: 365d }
              legal: { retention: permanent }
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: default }
            \(extra)
            """)
        try d.writeRules("""
            rules:
              - name: legal-copy
                when: [ { recipient: { domain: legal.test } } ]
                then: [ { archive: legal } ]
              - name: keep
                then: [ { archive: default }, { store: var/outbox } ]
            """)
        return d
    }

    func search(_ d: DaemonProcess, _ args: [String]) throws -> [[String: Any]] {
        let (status, out, err) = try d.cli(["archive", "search", "--json"] + args)
        XCTAssertEqual(status, 0, err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        return try XCTUnwrap(json["messages"] as? [[String: Any]])
    }

    func testSearchShowAndExport() throws {
        let d = try archivingDaemon()
        try d.start()
        let messages: [(String, String, String)] = [
            ("alice@example.test", "bob@partner.test", "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: Project Falcon budget\r\nMessage-ID: <a1@test>\r\n\r\nThe falcon project needs more budget.\r\nFrom the team.\r\n"),
            ("carol@example.test", "dan@legal.test", "From: carol@example.test\r\nTo: dan@legal.test\r\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgWsO8cmljaA==?=\r\nMessage-ID: <a2@test>\r\n\r\nContract attached.\r\n"),
            ("alice@example.test", "erin@other.test", "From: alice@example.test\r\nTo: erin@other.test\r\nSubject: lunch\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee the falconry notes\r\n--b\r\nContent-Type: application/pdf; name=\"menu.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"),
        ]
        for (from, to, text) in messages {
            XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: from, to: to, message: text).code, 250)
        }
        XCTAssertTrue(waitUntil { (try? self.search(d, []).count) == 4 }, d.log())  // three in default, one more in legal

        XCTAssertEqual(try search(d, ["--archive", "legal"]).count, 1)
        XCTAssertEqual(try search(d, ["--from", "alice@"]).count, 2)
        XCTAssertEqual(try search(d, ["--to", "partner.test"]).count, 1)
        XCTAssertEqual(try search(d, ["--subject", "budget"]).count, 1)
        XCTAssertEqual(try search(d, ["--has-attachment"]).count, 1)
        XCTAssertEqual(try search(d, ["--text", "\"more budget\""]).count, 1, "phrase")
        XCTAssertEqual(try search(d, ["--text", "falcon*"]).count, 2, "prefix: falcon and falconry")
        XCTAssertEqual(try search(d, ["--text", "Zurich"]).count, 2, "the decoded RFC 2047 subject, diacritics folded, in both archives")
        XCTAssertEqual(try search(d, ["--text", "falcon*", "--from", "alice", "--archive", "default"]).count, 2, "combined")
        // Who submitted it (issue 20): the client address and the listener are recorded and filter.
        XCTAssertEqual(try search(d, ["--ip", "127.0.0.1"]).count, 4)
        XCTAssertEqual(try search(d, ["--ip", "192.0.2.1"]).count, 0)
        XCTAssertEqual(try search(d, ["--listener", "relay"]).first?["listener"] as? String, "relay")
        XCTAssertEqual(try search(d, ["--dmarc", "fail"]).count, 0, "not verified on this listener")
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        XCTAssertEqual(try search(d, ["--since", today]).count, 4, "since is inclusive")
        XCTAssertEqual(try search(d, ["--until", today]).count, 0, "until is exclusive")
        // Addresses, domains and exclusions as an administrator types them (issue 20: FTS5 refused "@").
        XCTAssertEqual(try search(d, ["--text", "alice@example.test"]).count, 2, "an address as typed")
        XCTAssertEqual(try search(d, ["--text", "bob@partner.test"]).count, 1)
        XCTAssertEqual(try search(d, ["--text", "falcon* -budget"]).map { $0["subject"] as? String }, ["lunch"], "prefix without a word")
        XCTAssertEqual(try search(d, ["--text", "\"unclosed"]).count, 0, "an unclosed quote is a phrase to the end")
        let (bad, _, badErr) = try d.cli(["archive", "search", "--text=-budget"])
        XCTAssertEqual(bad, 1)
        XCTAssertTrue(badErr.contains("text query:") && badErr.contains("not only words to leave out"), badErr)

        // Bytes come back unchanged: the archived copy is the delivered one.
        let first = try XCTUnwrap(try search(d, ["--subject", "budget"]).first?["id"] as? Int)
        let (status, shown, _) = try d.cli(["archive", "show", "\(first)"])
        XCTAssertEqual(status, 0)
        let delivered = try XCTUnwrap(d.outboxFiles().map { String(decoding: FileManager.default.contents(atPath: d.outbox + "/" + $0)!, as: UTF8.self) }
            .first { $0.contains("<a1@test>") })
        XCTAssertEqual(shown, delivered)

        let mbox = d.root + "/export.mbox"
        XCTAssertEqual(try d.cli(["archive", "export", "--search", "--archive", "default", "--format", "mbox", "--out", mbox]).0, 0)
        let (code, count, perr) = try runTool(
            "/usr/bin/python3", ["-c", "import mailbox, sys\nbox = mailbox.mbox(sys.argv[1])\nprint(len(box), sum('From the team' in m.get_payload() for m in box if not m.is_multipart()))", mbox])
        XCTAssertEqual(code, 0, perr)
        XCTAssertEqual(count.trimmingCharacters(in: .whitespacesAndNewlines), "3 1", "three messages; the From-quoted line restored")
        XCTAssertEqual(try d.cli(["archive", "export", "\(first)", "--format", "eml", "--out", d.root + "/eml"]).0, 0)
        let eml = try FileManager.default.contentsOfDirectory(atPath: d.root + "/eml")
        XCTAssertEqual(eml.count, 1)
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: d.root + "/eml/" + eml[0])!, as: UTF8.self), delivered)
        let (_, stats, _) = try d.cli(["archive", "stats"])
        XCTAssertTrue(stats.contains("legal") && stats.contains("permanent"), stats)

        // More matches than shown: said in the table and as `total` in JSON (issue 20).
        let (_, table, _) = try d.cli(["archive", "search", "--limit", "1"])
        XCTAssertTrue(table.contains("showing 1 of 4 messages"), table)
        let (_, limited, _) = try d.cli(["archive", "search", "--json", "--limit", "2"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(limited.utf8)) as? [String: Any])
        XCTAssertEqual(json["total"] as? Int, 4)
        XCTAssertEqual((json["messages"] as? [Any])?.count, 2)
        XCTAssertFalse(limited.contains("\\/"), "no escaped slashes")
        // Export --search takes every match, whatever --limit says.
        XCTAssertEqual(try d.cli(["archive", "export", "--search", "--limit", "1", "--format", "eml", "--out", d.root + "/all"]).0, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d.root + "/all").count, 4)
        // A path of the wrong kind gets a clear error.
        let (asFile, _, fileErr) = try d.cli(["archive", "export", "\(first)", "--format", "eml", "--out", mbox])
        XCTAssertEqual(asFile, 1)
        XCTAssertTrue(fileErr.contains("is a file; --format eml writes one .eml file per message into a directory"), fileErr)
        let (asDir, _, dirErr) = try d.cli(["archive", "export", "\(first)", "--format", "mbox", "--out", d.root + "/eml"])
        XCTAssertEqual(asDir, 1)
        XCTAssertTrue(dirErr.contains("is a directory; --format mbox writes one file"), dirErr)
    }

    func testDLPCountsAreKeptWithTheArchivedMessage() throws {
        let d = try archivingDaemon()
        try "profiles:\n  pci: { detectors: [credit_card] }\n".write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.start()
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), message: "Subject: order\r\n\r\ncard 4111 1111 1111 1111\r\n").code, 250)
        XCTAssertTrue(waitUntil { (try? self.search(d, ["--subject", "order"]).count) == 1 }, d.log())
        XCTAssertEqual(try search(d, ["--subject", "order"]).first?["dlp"] as? String, "pci=1")
    }

    /// One MIME walk per message: with DLP on, the archive's text and attachment names come from the inspect stage's
    /// walk (sluice_archive_entries_total{text="inspect"}); without it the archive reads them itself ("read").
    func testTheArchiveTakesItsTextFromTheInspectStage() throws {
        let d = try archivingDaemon()
        try "profiles:\n  pci: { detectors: [credit_card] }\n".write(toFile: d.root + "/rules/dlp.yaml", atomically: true, encoding: .utf8)
        try d.start()
        let message = "Subject: ledger\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            + "--z\r\nContent-Type: text/csv; name=\"ledger.csv\"\r\nContent-Disposition: attachment; filename=\"ledger.csv\"\r\n\r\n"
            + "name,card\r\nzebrafinch,4111 1111 1111 1111\r\n--z--\r\n"
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), message: message).code, 250)
        XCTAssertTrue(waitUntil { (try? self.search(d, ["--text", "zebrafinch"]).count) == 1 }, d.log())
        let found = try XCTUnwrap(try search(d, ["--text", "zebrafinch"]).first)
        XCTAssertEqual(found["dlp"] as? String, "pci=1")
        XCTAssertEqual(found["attachments"] as? [String], ["ledger.csv"], "\(found)")
        let metrics = try httpGet(d.port("admin"), "/metrics").1
        func count(_ source: String) -> Int {
            metrics.split(separator: "\n").first { $0.hasPrefix("sluice_archive_entries_total{text=\"\(source)\"}") }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        }
        XCTAssertEqual(count("inspect"), 1, metrics)
        XCTAssertEqual(count("read"), 0, metrics)
    }

    func testKill9AfterThe250StillArchives() throws {
        let d = try archivingDaemon()
        try d.start()
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), message: "Subject: survive\r\n\r\nbody\r\n").code, 250)
        d.kill9()
        try d.start()
        XCTAssertTrue(waitUntil { (try? self.search(d, ["--subject", "survive"]).count) == 1 }, d.log())
        // A retried archive delivery never makes a second copy.
        XCTAssertTrue(d.waitForLog("\"event\":\"removed\""))
        XCTAssertEqual(try search(d, ["--subject", "survive"]).count, 1)
    }
}

extension ArchiveTests {
    /// Issue 20: `archive hold|release|delete` from the CLI while the daemon runs.
    func testHoldReleaseAndDeleteFromTheCommandLine() throws {
        let d = try archivingDaemon()
        try d.start()
        for (i, subject) in ["merger one", "merger two", "lunch"].enumerated() {
            let m = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: \(subject)\r\nMessage-ID: <k\(i)@test>\r\n\r\nbody \(subject)\r\n"
            XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "alice@example.test", to: "bob@partner.test", message: m).code, 250)
        }
        XCTAssertTrue(waitUntil { (try? self.search(d, ["--archive", "default"]).count) == 3 }, d.log())
        var (status, out, err) = try d.cli(["archive", "hold", "--search", "--subject", "merger one"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("held 1 archived message"), out)
        XCTAssertEqual(try search(d, ["--held"]).map { $0["subject"] as? String }, ["merger one"])
        XCTAssertEqual(try search(d, ["--held"]).first?["held"] as? Bool, true)

        (status, out, err) = try d.cli(["archive", "delete", "--search", "--text", "merger"])
        XCTAssertEqual(status, 1, "bulk delete needs --yes")
        XCTAssertTrue(err.contains("2 archived message(s) match; add --yes"), err)
        (status, out, err) = try d.cli(["archive", "delete", "--search", "--text", "merger", "--yes"])
        XCTAssertEqual(status, 1, "one of them is held")
        XCTAssertTrue(err.contains("legal hold") && err.contains("nothing was deleted"), err)

        (status, out, err) = try d.cli(["archive", "delete", "--search", "--text", "merger", "--archive", "default", "--yes"])
        XCTAssertEqual(status, 1)
        let two = try XCTUnwrap(try search(d, ["--subject", "merger two"]).first?["id"] as? Int)
        (status, out, err) = try d.cli(["archive", "delete", "\(two)"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("deleted 1 archived message"), out)
        XCTAssertEqual(try search(d, ["--text", "merger"]).count, 1)

        (status, out, err) = try d.cli(["archive", "release", "--search", "--held"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("released 1"), out)
        (status, out, err) = try d.cli(["archive", "delete", "--search", "--text", "merger", "--yes"])
        XCTAssertEqual(status, 0, err)
        XCTAssertEqual(try search(d, ["--text", "merger"]).count, 0)
        XCTAssertEqual(try search(d, ["--subject", "lunch"]).count, 1, "the rest is untouched")
    }
}

extension ArchiveTests {
    /// Issue 20: encryption at rest from the command line: keygen, the daemon seals what it archives, show
    /// reads it back byte for byte, rotation with a second key and rekey, and a clear error without the key.
    func testEncryptionAtRestFromTheCommandLine() throws {
        let d = try archivingDaemon(extra: "archive_encryption: { key_file: etc/archive.keys }")
        var (status, out, err) = try d.cli(["archive", "keygen", "--out", d.root + "/etc/archive.keys"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("added key k"), out)
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: d.root + "/etc/archive.keys")[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o077, 0, "the key file is the owner's only")
        try d.start()
        let message = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: sealed merger\r\nMessage-ID: <enc1@test>\r\n\r\nconfidential body\r\n"
        XCTAssertEqual(try TestSMTPClient.sendMessage(port: d.port(), from: "alice@example.test", to: "bob@partner.test", message: message).code, 250)
        XCTAssertTrue(waitUntil { (try? self.search(d, ["--text", "merger"]).count) == 1 }, d.log())
        let id = try XCTUnwrap(try search(d, ["--text", "merger"]).first?["id"] as? Int)
        (status, out, err) = try d.cli(["archive", "show", "\(id)"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.hasSuffix(message), out)
        (status, out, err) = try d.cli(["archive", "keygen", "--out", d.root + "/etc/archive.keys"])
        XCTAssertEqual(status, 0, err)
        (status, out, err) = try d.cli(["archive", "rekey"])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("sealed 1 archived message"), out)
        XCTAssertTrue(try d.cli(["archive", "show", "\(id)"]).1.hasSuffix(message), "read back under the new key")
        // The key file gone: the message says why it cannot be read.
        try "# no keys\n".write(toFile: d.root + "/etc/archive.keys", atomically: true, encoding: .utf8)
        (status, out, err) = try d.cli(["archive", "show", "\(id)"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(err.contains("archive.keys") && err.contains("no key"), err)
    }
}
