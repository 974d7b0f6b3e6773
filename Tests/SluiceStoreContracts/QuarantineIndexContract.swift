// The contract of QuarantineIndex, written against the protocol: a record is
// kept and replaced whole, listed oldest first with every filter (rule,
// sender, age, node), found by id, forgotten on remove, and per node.

import Foundation
import SluiceCore
import SluiceQuarantine
import XCTest

public struct QuarantineIndexContract {
    let make: () throws -> any QuarantineIndex

    public init(make: @escaping () throws -> any QuarantineIndex) { self.make = make }

    func record(_ n: Int, node: String = "mx1", minutesAgo: Double, rule: String, sender: String) -> QuarantineRecord {
        QuarantineRecord(
            queueID: QueueID("1K20VPS7AF3J9NY\(n)")!, node: node, queuedAt: Date(timeIntervalSince1970: 1_800_000_000 - minutesAgo * 60),
            sender: "<\(sender)>", subject: "subject \(n)", size: 100 * n, recipients: ["b\(n)@example.org"],
            reasons: ["rule \(rule) (when dlp profile pci found: yes)"], verdicts: ["inspection": "pci=\(n)"])
    }

    public func run() async throws {
        let index = try make()
        let empty = try await index.list(QuarantineQuery())
        XCTAssertTrue(empty.isEmpty)
        let (a, b, c) = (
            record(1, minutesAgo: 90, rule: "hold-cards", sender: "app@example.test"),
            record(2, minutesAgo: 10, rule: "hold-secrets", sender: "ceo@corp.test"),
            record(3, node: "mx2", minutesAgo: 30, rule: "hold-cards", sender: "app@example.test")
        )
        for r in [b, a, c] { try await index.record(r) }
        let all = try await index.list(QuarantineQuery())
        XCTAssertEqual(all.map(\.queueID), [a.queueID, c.queueID, b.queueID], "oldest first")
        XCTAssertEqual(all.first, a, "kept whole")
        var q = QuarantineQuery()
        q.rule = "hold-cards"
        let byRule = try await index.list(q)
        XCTAssertEqual(byRule.map(\.queueID), [a.queueID, c.queueID])
        q = QuarantineQuery()
        q.from = "CEO@"
        let bySender = try await index.list(q)
        XCTAssertEqual(bySender.map(\.queueID), [b.queueID])
        q = QuarantineQuery()
        q.queuedBefore = Date(timeIntervalSince1970: 1_800_000_000 - 20 * 60)
        let older = try await index.list(q)
        XCTAssertEqual(older.map(\.queueID), [a.queueID, c.queueID])
        q = QuarantineQuery()
        q.node = "mx2"
        let onNode = try await index.list(q)
        XCTAssertEqual(onNode.map(\.queueID), [c.queueID])
        let ids = try await index.ids(node: "mx1")
        XCTAssertEqual(Set(ids), [a.queueID, b.queueID])
        // Replaced whole: a partial release leaves fewer recipients and another rule.
        var changed = a
        changed.recipients = []
        changed.reasons = ["rule other (when size > 1: yes)"]
        try await index.record(changed)
        let found = try await index.record(for: a.queueID)
        XCTAssertEqual(found, changed)
        q = QuarantineQuery()
        q.rule = "hold-cards"
        let afterChange = try await index.list(q)
        XCTAssertEqual(afterChange.map(\.queueID), [c.queueID], "its old rule no longer finds it")
        try await index.remove(b.queueID)
        let gone = try await index.record(for: b.queueID)
        XCTAssertNil(gone)
        try await index.remove(b.queueID)  // forgetting twice is no error
        let left = try await index.list(QuarantineQuery())
        XCTAssertEqual(left.count, 2)
        try await requestsAreTakenOnceInOrder(index, a.queueID, c.queueID)
    }

    /// A shared index carries requests to the node holding a message, each taken once, oldest first; an index of one
    /// node's quarantine refuses to carry any.
    func requestsAreTakenOnceInOrder(_ index: any QuarantineIndex, _ first: QueueID, _ second: QueueID) async throws {
        let release = QuarantineRequest(queueID: second, action: .release, only: "b3@example.org", by: "mx1")
        do {
            try await index.request(release, node: "mx2")
        } catch {
            XCTAssertTrue("\(error)".contains("not shared"), "says why: \(error)")
            let none = try await index.takeRequests(node: "mx2")
            XCTAssertEqual(none, [])
            return
        }
        let delete = QuarantineRequest(queueID: first, action: .delete, only: nil, by: "mx2")
        try await index.request(delete, node: "mx1")
        let forMX2 = try await index.takeRequests(node: "mx2")
        XCTAssertEqual(forMX2, [release])
        let again = try await index.takeRequests(node: "mx2")
        XCTAssertEqual(again, [], "taken once")
        let forMX1 = try await index.takeRequests(node: "mx1")
        XCTAssertEqual(forMX1, [delete])
    }
}
