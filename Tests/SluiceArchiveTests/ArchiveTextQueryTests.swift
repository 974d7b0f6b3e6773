// Sluice's text query language: what an administrator types (addresses,
// domains, hyphenated words, quotes, OR, -word, prefix*) parsed into phrases,
// translated for FTS5, and run against a real SQLite archive with the
// results a person expects.

import Foundation
import XCTest

@testable import SluiceArchive

final class ArchiveTextQueryTests: XCTestCase {
    typealias P = ArchiveTextQuery.Phrase

    func testWhatIsTypedBecomesPhrases() throws {
        XCTAssertEqual(try ArchiveTextQuery.parse("alice@external.org").required, [[P(words: ["alice", "external", "org"])]])
        XCTAssertEqual(try ArchiveTextQuery.parse("State-of-the-Art").required, [[P(words: ["state", "of", "the", "art"])]])
        XCTAssertEqual(try ArchiveTextQuery.parse("\"Quarterly  Payroll\" invoi*").required, [
            [P(words: ["quarterly", "payroll"])], [P(words: ["invoi"], prefix: true)],
        ])
        let q = try ArchiveTextQuery.parse("merger payroll OR salary -draft -\"do not send\"")
        XCTAssertEqual(q.required, [[P(words: ["merger"])], [P(words: ["payroll"]), P(words: ["salary"])]])
        XCTAssertEqual(q.excluded, [P(words: ["draft"]), P(words: ["do", "not", "send"])])
        XCTAssertEqual(q.fts5, "\"merger\" AND (\"payroll\" OR \"salary\") NOT \"draft\" NOT \"do not send\"")
        XCTAssertEqual(try ArchiveTextQuery.parse("O'Brien's (NOT) AND").fts5, "\"o brien s\" AND \"not\" AND \"and\"", "operators of FTS5 are words here")
        XCTAssertEqual(try ArchiveTextQuery.parse("\"unclosed phrase").fts5, "\"unclosed phrase\"")
        XCTAssertEqual(try ArchiveTextQuery.parse("Müller").fts5, "\"müller\"")
    }

    func testAQueryWithNothingToLookForIsRefusedWithAReason() {
        XCTAssertThrowsError(try ArchiveTextQuery.parse("@@ -- ..")) { XCTAssertTrue("\($0)".contains("nothing to search for"), "\($0)") }
        XCTAssertThrowsError(try ArchiveTextQuery.parse("-draft")) { XCTAssertTrue("\($0)".contains("not only words to leave out"), "\($0)") }
    }

    func testSearchesAsAnAdministratorTypesThem() throws {
        let dir = NSTemporaryDirectory() + "archive-q-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteArchiveStore(path: dir + "/archive.sqlite")
        func entry(_ id: String, sender: String, subject: String, body: String) -> ArchiveEntry {
            ArchiveEntry(
                archive: "default", queueID: id, receivedAt: Date(), sender: sender, recipients: ["b@example.org"], from: sender,
                to: "b@example.org", cc: "", subject: subject, messageID: "<\(id)@t>", attachments: [], dlpSummary: "", authSummary: "",
                bodyText: body, raw: Array("Subject: \(subject)\r\n\r\n\(body)\r\n".utf8))
        }
        try store.add([
            entry("Q1", sender: "alice@external.org", subject: "Invoice 42", body: "state-of-the-art payroll system"),
            entry("Q2", sender: "bob@example.test", subject: "draft: invoice", body: "write to alice about the salary review"),
            entry("Q3", sender: "carol@external.org", subject: "lunch", body: "external org chart, do not send"),
            entry("Q4", sender: "alice@example.test", subject: "Project Falcon budget", body: "The falcon project needs more budget."),
            entry("Q5", sender: "alice@example.test", subject: "lunch", body: "see the falconry notes"),
        ])
        func ids(_ text: String) throws -> [String] {
            var q = ArchiveQuery()
            q.text = text
            return try store.search(q).map(\.queueID).sorted()
        }
        XCTAssertEqual(try ids("alice@external.org"), ["Q1"], "an address as typed")
        XCTAssertEqual(try ids("external.org"), ["Q1", "Q3"], "a domain")
        XCTAssertEqual(try ids("state-of-the-art"), ["Q1"])
        XCTAssertEqual(try ids("invoice -draft"), ["Q1"])
        XCTAssertEqual(try ids("payroll OR salary"), ["Q1", "Q2"])
        XCTAssertEqual(try ids("invo*"), ["Q1", "Q2"])
        XCTAssertEqual(try ids("\"do not send\""), ["Q3"])
        XCTAssertEqual(try ids("external -\"org chart\""), ["Q1"])
        XCTAssertEqual(try ids("falcon* -budget"), ["Q5"])
        XCTAssertThrowsError(try ids("-invoice")) { XCTAssertTrue("\($0)".contains("text query:"), "\($0)") }
    }
}
