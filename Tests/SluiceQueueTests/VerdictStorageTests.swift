// Open verdicts in the queue: any Verdict is kept by its stable name; one
// this binary does not know (written by another version) survives hold and
// release byte for byte; files written by the previous release read.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceQueue

/// A verdict type the rest of Sluice knows nothing of.
struct ScoreVerdict: Verdict, Equatable {
    static let name = "test_score"
    var score: Double
    var symbols: [String]
    var forQueue: ScoreVerdict { ScoreVerdict(score: score, symbols: Array(symbols.prefix(1))) }
    var summary: String { "score \(score)" }
}

final class VerdictStorageTests: XCTestCase {
    var dir: String!

    override func setUp() { dir = NSTemporaryDirectory() + "sluice-verdicts-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testAnyVerdictIsHeldByTypeAndStoredByName() throws {
        var v = MessageVerdicts()
        XCTAssertNil(v[ScoreVerdict.self])
        v[ScoreVerdict.self] = ScoreVerdict(score: 7.5, symbols: ["A", "B"])
        v.authentication = AuthenticationResults(spf: SPFVerdict(result: .pass, identity: "example.test", scope: "mailfrom"))
        XCTAssertEqual(v[ScoreVerdict.self]?.score, 7.5)
        XCTAssertEqual(v.names, ["test_score", "authentication"])
        XCTAssertEqual(v.forQueue[ScoreVerdict.self]?.symbols, ["A"], "each type decides what the queue keeps")
        let json = String(decoding: try StoredJSON.encoder().encode(v), as: UTF8.self)
        XCTAssertTrue(json.contains("\"test_score\":{\"score\":7.5,\"symbols\":[\"A\",\"B\"]}"), json)
        let back = try StoredJSON.decoder().decode(MessageVerdicts.self, from: Data(json.utf8))
        XCTAssertEqual(back[ScoreVerdict.self], ScoreVerdict(score: 7.5, symbols: ["A", "B"]))
        XCTAssertEqual(back.authentication?.spf?.result, .pass)
        v[ScoreVerdict.self] = nil
        XCTAssertEqual(v.names, ["authentication"])
    }

    func testAStoredVerdictThatDoesNotReadAsTheTypeIsAbsentAndKept() throws {
        let json = #"{"sender":{"fromDomains":["a.test"],"principal":"user a"},"test_score":{"points":3}}"#
        let v = try StoredJSON.decoder().decode(MessageVerdicts.self, from: Data(json.utf8))
        XCTAssertNil(v[ScoreVerdict.self])
        XCTAssertEqual(v.sender?.principal, "user a")
        XCTAssertEqual(String(decoding: try StoredJSON.encoder().encode(v), as: UTF8.self), json)
    }

    /// A verdict written by a newer Sluice: this binary has no type for "spam" and must not lose it.
    func testAnUnknownVerdictRoundTripsByteForByteThroughHoldAndRelease() throws {
        let spam = #"{"score":6.25,"symbols":["BAYES_99","URIBL_\/x"],"threshold":5,"when":1796635355482}"#
        let store = try QueueStore(directory: dir)
        let id = QueueID.generate()
        let body = "Subject: x\r\n\r\nhi\r\n"
        try FileSystem.writeDurably(Array(body.utf8), to: store.spoolPath(for: id))
        let env = Envelope(
            queueID: id, sender: MailAddress(localPart: "a", domain: "s.test"),
            recipients: [Recipient(address: MailAddress(localPart: "b", domain: "r.test"))],
            client: ClientInfo(address: IPAddress("127.0.0.1"), listener: "relay"))
        var entry = QueueEntry(
            envelope: env, plan: DeliveryPlan(routes: [Route(target: .send, recipients: [env.recipients[0].address])]), size: body.utf8.count,
            queuedAt: Date())
        entry.results = try StoredJSON.decoder().decode(MessageVerdicts.self, from: Data(#"{"spam":\#(spam),"sender":{"fromDomains":[],"principal":null}}"#.utf8))
        try store.commit(entry)
        func spamBytes() throws -> String {
            let text = String(decoding: FileManager.default.contents(atPath: store.statePath(for: id)) ?? Data(), as: UTF8.self)
            let start = try XCTUnwrap(text.range(of: "\"spam\":"))
            return String(text[start.upperBound...].prefix(spam.count))
        }
        // Hold, as `sluice queue hold` does, then release.
        try store.modify(id) { current in
            var e = current
            e.held = true
            return .update(e)
        }
        XCTAssertEqual(try spamBytes(), spam)
        try store.modify(id) { current in
            var e = current
            e.held = false
            return .update(e)
        }
        XCTAssertEqual(try spamBytes(), spam)
        let loaded = try XCTUnwrap(try store.load(id))
        XCTAssertEqual(loaded.results?.names.sorted(), ["sender", "spam"])
    }

    /// Queue files written by release 0.9.0 (Tests/Fixtures/queue-0.9.0, made with the config and rules beside them).
    func testQueueFilesOfThePreviousReleaseRead() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/queue-0.9.0").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for sub in ["active", "state"] { try FileManager.default.copyItem(atPath: "\(fixtures)/\(sub)", toPath: "\(dir!)/\(sub)") }
        let store = try QueueStore(directory: dir)
        let entries = try store.entries().map { try $0.entry.get() }
        XCTAssertEqual(entries.count, 5)
        let everything = try XCTUnwrap(entries.first { $0.id.rawValue == "1K20VPS7AF3J9NY5" })
        XCTAssertEqual(everything.results?.authentication?.spf?.result, .pass)
        XCTAssertEqual(everything.results?.authentication?.dmarc?.disposition, DMARCPolicy.none)
        XCTAssertEqual(everything.results?.sender?.principal, "trusted network 127.0.0.0/8")
        XCTAssertEqual(everything.routes.map(\.route.target.description), ["relay:down", "archive:default", "store:/tmp/fx/var/fixture-out"])
        XCTAssertEqual(everything.routes.map(\.status), [.pending, .delivered, .delivered])
        let held = try XCTUnwrap(entries.first { $0.id.rawValue == "1K20VPS7V4CZD5VP" })
        XCTAssertEqual(held.results?.inspection?.profiles["pci"]?.count, 1)
        XCTAssertEqual(held.state, .quarantined)
        XCTAssertEqual(held.routes.first?.route.quarantine?.hasPrefix("rule hold-cards"), true)
        let direct = try XCTUnwrap(entries.first { $0.id.rawValue == "1K20VPS827PTWDMJ" })
        XCTAssertEqual(direct.routes.first?.route.target.description, "send")
        XCTAssertEqual(direct.routes.first?.route.onFailure, .defer)
        XCTAssertEqual(direct.envelope.dsnEnvelopeID, "env-42")
        let bounce = try XCTUnwrap(entries.first { $0.id.rawValue == "1K20VPS88NDXRW01" })
        XCTAssertTrue(bounce.routes.contains { $0.route.target.description == "bounce:550 5.7.1" && $0.status == .failed && $0.bounced })
        // A state rewritten by this version still holds every verdict.
        try store.modify(everything.id) { .update($0) }
        XCTAssertEqual(try store.load(everything.id)?.results?.names.sorted(), ["authentication", "inspection", "sender"])
    }
}
