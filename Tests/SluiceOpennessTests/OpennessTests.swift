// Openness, proved from outside Sources: HeaderScoreComponent (this target)
// is registered on the composition root the daemon uses, and a rule file
// using its condition and actions takes a message end to end — accepted,
// decided, queued, delivered to its target — while `sluice rules test`'s
// code path (SluiceAdmin.DryRun) explains the same decision.

import Foundation
import Logging
import SluiceAdmin
import SluiceComponents
import SluiceConfig
import SluiceCore
import SluiceDaemon
import SluicePipeline
import SluiceQuarantine
import SluiceStoreContracts
import XCTest

final class OpennessTests: XCTestCase {
    /// The composition root, and one line more.
    let scores = HeaderScoreComponent()
    var components: [any Component] { Components.standard + [scores] }
    var root = ""

    static let rules = """
        rules:
          - name: off-the-scale
            when: [ { header_score: { gt: 9 } } ]
            then: [ quarantine, { store: var/outbox }, stop ]
          - name: high-score
            when: [ { header_score: { gt: 5 } } ]
            then: [ { score_header: X-Score }, { record_to: inbox }, stop ]
          - name: rest
            then: [ { store: var/outbox } ]
        """

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "sluice-open-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/rules", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/var", withIntermediateDirectories: true)
        try """
            hostname: mx.open.test
            data_dir: var
            listeners:
              - { name: relay, address: "127.0.0.1:0", tls: none, rules: open }
            admin: { address: "127.0.0.1:0" }
            queue: { min_free: 1MB }
            recorders:
              inbox: { file: var/inbox.jsonl }
              spare: { file: var/spare.jsonl }
            storage: { backend: test-memory }
            """.write(toFile: root + "/etc/sluice.yaml", atomically: true, encoding: .utf8)
        try Self.rules.write(toFile: root + "/rules/open.yaml", atomically: true, encoding: .utf8)
        try "From: a@example.test\r\nTo: b@example.org\r\nSubject: scored\r\nX-Test-Score: 7.5\r\n\r\nhello\r\n"
            .write(toFile: root + "/high.eml", atomically: true, encoding: .utf8)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    var configFile: String { root + "/etc/sluice.yaml" }

    func testTheComponentsVocabularyLoadsAndWarnsThroughTheContract() async throws {
        let runtime = try await Runtime.load(configFile: configFile, components: components)
        XCTAssertEqual(runtime.targetKinds["recorder"], ["inbox", "spare"])
        XCTAssertNotNil(runtime.verdictTypes[HeaderScore.name])
        XCTAssertTrue(runtime.warnings.contains("recorder spare: no rule delivers to it"), "\(runtime.warnings)")
        // Without the component its section and its rule keys are unknown: refused where they are written.
        do {
            _ = try await Runtime.load(configFile: configFile, components: Components.standard)
            XCTFail("a section no component reads was accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("unknown key 'recorders'"), "\(error)")
        }
        // A rule naming a recorder that is not configured fails to load with file:line:column, never at delivery.
        try Self.rules.replacingOccurrences(of: "record_to: inbox", with: "record_to: nosuch")
            .write(toFile: root + "/rules/open.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try await Runtime.load(configFile: configFile, components: components)
            XCTFail("a rule naming an unconfigured recorder loaded")
        } catch let e as ConfigError {
            XCTAssertEqual(e.file, root + "/rules/open.yaml")
            XCTAssertEqual(e.line, 7)
            XCTAssertEqual(e.column, 53)
            XCTAssertTrue(e.reason.contains("no recorder 'nosuch'"), "\(e)")
        }
    }

    /// The second backend passes the same contract suite as the embedded one, unchanged.
    func testTheSecondBackendPassesTheQuarantineIndexContract() async throws {
        try await QuarantineIndexContract { MemoryQuarantineIndex() }.run()
    }

    func testTheDryRunExplainsTheDecisionTheComponentMakes() async throws {
        let runtime = try await Runtime.load(configFile: configFile, components: components)
        let report = try await DryRun.run(DryRunRequest(messagePath: root + "/high.eml"), runtime: runtime, components: components)
        XCTAssertEqual(report.message.verdicts[HeaderScore.self], HeaderScore(score: 7.5))
        let outcome = try XCTUnwrap(report.decision.outcomes.first)
        XCTAssertEqual(outcome.trace.map(\.why), ["when header score > 9.0: no", "when header score > 5.0: yes"])
        XCTAssertEqual(outcome.actionLog, ["score_header X-Score", "record_to inbox", "stop"])
        let route = try XCTUnwrap(report.decision.plan.routes.first)
        XCTAssertEqual(route.target.description, "recorder:inbox")
        XCTAssertEqual(route.addHeaders, ["X-Score: 7.5"])
        XCTAssertEqual(route.marks, ["test-score": ["7.5"]])
    }

    /// Accepted over SMTP (swaks), decided by the component's condition, queued, delivered to its target.
    func testAMessageGoesEndToEndThroughTheComponent() async throws {
        let config = try SluiceConfiguration.load(file: configFile, sections: components.sections)
        let daemon = Daemon(config: config, components: components, logger: Logger(label: "open") { _ in SwiftLogNoOpLogHandler() })
        let metrics = Self.metrics
        let running = Task { try await daemon.run(metrics: metrics) }
        defer { running.cancel() }
        let port = try await listenerPort()
        try swaks(port: port, header: "X-Test-Score: 7.5", to: "b@example.org")
        try swaks(port: port, header: "X-Test-Score: 1", to: "c@example.org")
        try swaks(port: port, header: "X-Test-Score: 9.5", to: "d@example.org")
        let (inbox, outbox) = (root + "/var/inbox.jsonl", root + "/var/outbox")
        try await waitFor("the recorder to get the high-scored message") { FileManager.default.fileExists(atPath: inbox) }
        try await waitFor("the low-scored message in the outbox") {
            (try? FileManager.default.contentsOfDirectory(atPath: outbox).count) == 1
        }
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: inbox)), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let record = try JSONDecoder().decode(Recording.self, from: Data(lines[0].utf8))
        XCTAssertEqual(record.recipients, ["b@example.org"])
        XCTAssertTrue(record.prefix.hasPrefix("X-Score: 7.5\r\nReceived: from "), record.prefix)
        XCTAssertEqual(record.marks, ["test-score": ["7.5"]])
        XCTAssertTrue(record.verdicts.contains(HeaderScore.name), "the verdict was queued with the message: \(record.verdicts)")
        // The quarantined one is in the "test-memory" backend's index: the daemon used only the contract.
        let held = try await scores.quarantine.list(QuarantineQuery())
        XCTAssertEqual(held.map(\.recipients), [["d@example.org"]])
        XCTAssertEqual(held.first?.reasons, ["rule off-the-scale (when header score > 9.0: yes)"])
        XCTAssertEqual(held.first?.verdicts[HeaderScore.name], "score 9.5")
        await daemon.shutdown.stop()
        try await running.value
    }

    // MARK: helpers

    /// swift-metrics takes one backend per process.
    static let metrics = Daemon.bootstrapMetrics()

    func listenerPort() async throws -> Int {
        let state = root + "/var/run/listeners.json"
        try await waitFor("the daemon to listen") { FileManager.default.fileExists(atPath: state) }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state))) as? [String: Any]
        return try XCTUnwrap((json?["listeners"] as? [String: Int])?["relay"])
    }

    /// Polls `condition` every 20 ms for at most 20 s.
    func waitFor(_ what: String, _ condition: @escaping @Sendable () -> Bool) async throws {
        for _ in 0..<1000 {
            if condition() { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTFail("timed out waiting for \(what)")
        throw CancellationError()
    }

    func swaks(port: Int, header: String, to: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/swaks")
        p.arguments = [
            "--server", "127.0.0.1:\(port)", "--from", "a@example.test", "--to", to, "--header", header, "--body", "hello", "--hide-all",
        ]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "swaks to \(to)")
    }
}
