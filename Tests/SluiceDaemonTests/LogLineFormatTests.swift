// The text log format reads back: values with spaces, quotes, '=' and
// control characters survive the round trip, and lines of the older format
// (unquoted message and values) read as well as they can.

import SluiceCore
import XCTest

final class LogLineFormatTests: XCTestCase {
    func testTextLinesReadBack() throws {
        let fields = [
            ("event", "deferred"), ("queue_id", "01ABCDEF"), ("reason", "no such user"), ("reply", "451 4.3.0 \"quoted\" a=b"),
            ("empty", ""), ("multi", "line\nbreak\\"),
        ]
        let line = LogLineFormat.text(time: "2026-12-04T10:00:00.000Z", level: "warning", message: "delivery deferred", fields: fields)
        XCTAssertTrue(line.hasPrefix("2026-12-04T10:00:00.000Z warning \"delivery deferred\" event=deferred queue_id=01ABCDEF reason=\"no such user\""), line)
        XCTAssertFalse(line.contains("\n"))
        let parsed = try XCTUnwrap(LogLineFormat.parseText(line))
        XCTAssertEqual(parsed["time"], "2026-12-04T10:00:00.000Z")
        XCTAssertEqual(parsed["level"], "warning")
        XCTAssertEqual(parsed["msg"], "delivery deferred")
        for (k, v) in fields { XCTAssertEqual(parsed[k], v, k) }
    }

    func testOlderTextLines() throws {
        let parsed = try XCTUnwrap(LogLineFormat.parseText("2026-11-27T09:41:07.123Z info queued event=queued queue_id=X1 from=a@b.test"))
        XCTAssertEqual(parsed["msg"], "queued")
        XCTAssertEqual(parsed["queue_id"], "X1")
        let words = try XCTUnwrap(LogLineFormat.parseText("2026-11-27T09:41:07.123Z warning delivery deferred event=deferred reason=no such user"))
        XCTAssertEqual(words["msg"], "delivery deferred")
        XCTAssertEqual(words["reason"], "no such user")
        XCTAssertNil(LogLineFormat.parseText("not a log line"))
    }
}
