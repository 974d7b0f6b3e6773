// MessageHandoff: a value kept for a queued message is read back by id and
// type, dropped by type, and the oldest messages go first past the budget.

import SluiceCore
import XCTest

final class MessageHandoffTests: XCTestCase {
    struct Blob: DerivedValue, Equatable {
        var size: Int
        var byteCount: Int { size }
    }

    struct Tag: DerivedValue, Equatable {
        var name: String
        var byteCount: Int { 10 }
    }

    func id(_ n: Int) -> QueueID { QueueID(String(format: "%016d", n))! }

    func content(_ size: Int, tag: String? = nil) -> DerivedContent {
        var c = DerivedContent()
        c[Blob.self] = Blob(size: size)
        if let tag { c[Tag.self] = Tag(name: tag) }
        return c
    }

    func testKeptReadAndDroppedByType() {
        let handoff = MessageHandoff(budget: 1000)
        let first = id(1)
        handoff.keep(content(100, tag: "x"), for: first)
        XCTAssertEqual(handoff.value(Blob.self, for: first), Blob(size: 100))
        XCTAssertEqual(handoff.value(Tag.self, for: first), Tag(name: "x"))
        XCTAssertNil(handoff.value(Blob.self, for: id(2)))
        handoff.drop(Blob.self, for: first)
        XCTAssertNil(handoff.value(Blob.self, for: first))
        XCTAssertEqual(handoff.value(Tag.self, for: first), Tag(name: "x"), "another reader's type stays")
        XCTAssertEqual(handoff.usage.bytes, 10)
        handoff.drop(Tag.self, for: first)
        XCTAssertEqual(handoff.usage.messages, 0)
        XCTAssertEqual(handoff.usage.bytes, 0)
    }

    func testTheOldestGoFirstPastTheBudgetAndTooLargeIsNotKept() {
        let handoff = MessageHandoff(budget: 1000)
        for i in 0..<5 { handoff.keep(content(300), for: id(i)) }
        XCTAssertEqual(handoff.usage.messages, 3)
        XCTAssertLessThanOrEqual(handoff.usage.bytes, 1000)
        XCTAssertNil(handoff.value(Blob.self, for: id(1)))
        XCTAssertNotNil(handoff.value(Blob.self, for: id(4)))
        handoff.keep(content(2000), for: id(99))
        XCTAssertNil(handoff.value(Blob.self, for: id(99)))
        XCTAssertEqual(handoff.usage.messages, 3, "what was kept stays")
        handoff.keep(DerivedContent(), for: id(98))
        XCTAssertEqual(handoff.usage.messages, 3)
    }

    func testManyMessagesKeptAndDroppedLeaveNothingBehind() {
        let handoff = MessageHandoff(budget: 10_000)
        for i in 0..<10_000 {
            let id = id(i)
            handoff.keep(content(50), for: id)
            if i % 3 != 0 { handoff.drop(Blob.self, for: id) }
        }
        XCTAssertLessThanOrEqual(handoff.usage.bytes, 10_000)
        for i in 0..<10_000 { handoff.drop(Blob.self, for: id(i)) }
        XCTAssertEqual(handoff.usage.messages, 0)
        XCTAssertEqual(handoff.usage.bytes, 0)
    }
}
