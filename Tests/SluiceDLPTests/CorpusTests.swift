// Recall and precision per predefined detector on a generated, labelled corpus
// of 2,400 messages (plain, HTML, quoted-printable, base64, CSV and zipped attachments),
// and CPython's email test messages parsed without a crash.

import Foundation
import XCTest

@testable import SluiceDLP

final class CorpusTests: XCTestCase {
    func testRecallAndPrecisionPerDetector() throws {
        var book = DLPBook()
        book.detectors = Detector.predefined.keys.sorted().map { Detector.predefined[$0]! }
        book.profiles["all"] = DLPProfile(name: "all", detectors: Detector.predefined.keys.sorted())
        let scanner = try DLPScanner(book: book)
        var generator = CorpusGenerator()
        var tp: [String: Int] = [:]
        var fp: [String: Int] = [:]
        var fn: [String: Int] = [:]
        let count = 2400
        for n in 0..<count {
            let m = generator.message(n)
            let found = Dictionary(grouping: try scanner.scan(m.bytes).findings.filter { $0.part != "headers" }, by: \.detector)
                .mapValues(\.count)
            for d in Set(found.keys).union(m.expected.keys) {
                let f = found[d] ?? 0
                let e = m.expected[d] ?? 0
                tp[d, default: 0] += min(f, e)
                fp[d, default: 0] += max(0, f - e)
                fn[d, default: 0] += max(0, e - f)
            }
        }
        print("DLP corpus: \(count) messages")
        for d in Detector.predefined.keys.sorted() {
            let t = Double(tp[d] ?? 0)
            let recall = t / max(1, t + Double(fn[d] ?? 0))
            let precision = t / max(1, t + Double(fp[d] ?? 0))
            print(String(format: "  %-22@ values %5d  recall %.4f  precision %.4f", d as NSString, tp[d, default: 0] + fn[d, default: 0], recall, precision))
            XCTAssertGreaterThanOrEqual(recall, 0.99, "\(d): recall \(recall) (missed \(fn[d] ?? 0))")
            XCTAssertGreaterThanOrEqual(precision, 0.99, "\(d): precision \(precision) (false \(fp[d] ?? 0))")
            XCTAssertGreaterThan(tp[d] ?? 0, 100, "\(d): the corpus must hold enough values")
        }
    }

    func testCPythonEmailTestMessagesParse() throws {
        let dirs = ["/usr/lib/python3.11/test/test_email/data", "/usr/lib/python3/test/test_email/data"]
        guard let dir = dirs.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("CPython's email test data is missing; `make test` installs libpython3.11-testsuite")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("msg_") && $0.hasSuffix(".txt") }.sorted()
        XCTAssertGreaterThan(files.count, 40)
        var book = DLPBook()
        book.detectors = Detector.predefined.keys.sorted().map { Detector.predefined[$0]! }
        book.profiles["all"] = DLPProfile(name: "all", detectors: Detector.predefined.keys.sorted())
        let scanner = try DLPScanner(book: book)
        var parts = 0
        for f in files {
            let report = try scanner.scan(path: dir + "/" + f, length: Int.max)
            XCTAssertFalse(report.parts.isEmpty, f)
            parts += report.parts.count
        }
        print("CPython email corpus: \(files.count) messages, \(parts) parts scanned")
    }
}
