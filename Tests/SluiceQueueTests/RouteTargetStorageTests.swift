// Open route targets: a kind and an instance, stored as `{KIND: {FIELDS}}`.
// The targets of release 0.9.0 keep their exact shapes (so that release reads
// what this one writes), and a kind this binary has no target for still reads.

import Foundation
import SluiceCore
import XCTest

final class RouteTargetStorageTests: XCTestCase {
    func json(_ t: RouteTarget) throws -> String { String(decoding: try StoredJSON.encoder().encode(t), as: UTF8.self) }
    func target(_ text: String) throws -> RouteTarget { try StoredJSON.decoder().decode(RouteTarget.self, from: Data(text.utf8)) }

    func testTheTargetsOfReleaseZeroNineKeepTheirShapes() throws {
        let shapes: [(RouteTarget, String, String)] = [
            (.store(directory: "/var/out"), #"{"store":{"directory":"\/var\/out"}}"#, "store:/var/out"),
            (.relay(upstream: "smarthost"), #"{"relay":{"upstream":"smarthost"}}"#, "relay:smarthost"),
            (.send, #"{"send":{}}"#, "send"),
            (.archive(name: "legal"), #"{"archive":{"name":"legal"}}"#, "archive:legal"),
            (
                .bounce(code: 550, status: EnhancedStatus(5, 7, 1), text: "not here"),
                #"{"bounce":{"code":550,"status":"5.7.1","text":"not here"}}"#, "bounce:550 5.7.1"
            ),
        ]
        for (t, stored, description) in shapes {
            XCTAssertEqual(try json(t), stored)
            let back = try target(stored)
            XCTAssertEqual(back, t, stored)
            XCTAssertEqual(back.description, description)
        }
        XCTAssertEqual(try target(shapes[4].1).bounceReply?.text, "not here")
    }

    func testAKindThisBinaryDoesNotDeliverStillReadsAndWritesBack() throws {
        let stored = #"{"lmtp":{"mailbox":"{local}","name":"mailstore"}}"#
        let t = try target(stored)
        XCTAssertEqual(t.kind, "lmtp")
        XCTAssertEqual(t.instance, "mailstore")
        XCTAssertEqual(t.options["mailbox"]?.stringValue, "{local}")
        XCTAssertEqual(try json(t), stored)
        XCTAssertThrowsError(try target(#"{"a":{},"b":{}}"#), "one kind per target")
    }
}
