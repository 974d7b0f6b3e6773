import SluiceCore
import XCTest

final class MessageHeadersTests: XCTestCase {
    func testCountMailboxes() {
        let table: [(String, Int)] = [
            ("a@b", 1), ("a@b, c@d", 2), ("\"Doe, John\" <j@x>", 1), ("Team: a@b, c@d;", 2),
            ("(comment, with comma) a@b", 1), ("<a@b>, \"x\" <c@d>", 2), ("", 0),
        ]
        for (value, n) in table { XCTAssertEqual(countMailboxes(inAddressList: value), n, value) }
    }

    func testFoldedHeaders() {
        let h = MessageHeaders(parsing: Array("Subject: a\r\n b\r\nX-Y:z\r\n".utf8))
        XCTAssertEqual(h.first("SUBJECT"), "a b")
        XCTAssertEqual(h.first("x-y"), "z")
    }

    func testQueueIDsAreOrderedAndValid() {
        let a = QueueID.generate(now: Date(timeIntervalSince1970: 1_000_000))
        let b = QueueID.generate(now: Date(timeIntervalSince1970: 1_000_001))
        XCTAssertLessThan(a, b)
        XCTAssertEqual(QueueID(a.rawValue), a)
        XCTAssertNil(QueueID("../../etc/passwd"))
        let now = Date()
        XCTAssertEqual(QueueID.generate(now: now).timestamp.timeIntervalSince1970, now.timeIntervalSince1970, accuracy: 0.001)
    }
}
