// ScannerHealth: how each scanner has been answering, for `sluice status`
// (the "scanners" section) and /metrics: answers and findings counted, the
// last error and when, and how many calls in a row have failed (a scanner
// that has failed its last call is "failing"). Updated by the scan stage.

import Foundation
import Metrics
import NIOConcurrencyHelpers
import SluiceCore

final class ScannerHealth: Sendable {
    struct Record: Sendable {
        var answered = 0
        var found = 0
        var errors = 0
        var consecutiveErrors = 0
        var lastError: String?
        var lastErrorAt: Date?
        var lastAnswerAt: Date?
    }

    private let records = NIOLockedValueBox<[String: Record]>([:])

    /// A call that answered (`found`: a virus, or spam), after `seconds`.
    func answered(_ scanner: String, found: Bool, seconds: Double, at now: Date) {
        records.withLockedValue { r in
            r[scanner, default: Record()].answered += 1
            if found { r[scanner, default: Record()].found += 1 }
            r[scanner, default: Record()].consecutiveErrors = 0
            r[scanner, default: Record()].lastAnswerAt = now
        }
        Counter(label: "sluice_scanner_requests_total", dimensions: [("scanner", scanner), ("outcome", found ? "found" : "clean")]).increment()
        Timer(label: "sluice_scanner_seconds", dimensions: [("scanner", scanner)]).recordSeconds(seconds)
    }

    func failed(_ scanner: String, error: String, seconds: Double, at now: Date) {
        records.withLockedValue { r in
            r[scanner, default: Record()].errors += 1
            r[scanner, default: Record()].consecutiveErrors += 1
            r[scanner, default: Record()].lastError = error
            r[scanner, default: Record()].lastErrorAt = now
        }
        Counter(label: "sluice_scanner_requests_total", dimensions: [("scanner", scanner), ("outcome", "error")]).increment()
        Timer(label: "sluice_scanner_seconds", dimensions: [("scanner", scanner)]).recordSeconds(seconds)
    }

    /// The status section: each configured scanner, asked or not yet.
    func report(configured: [String]) -> JSONValue {
        let snapshot = records.withLockedValue { $0 }
        return .array(
            configured.sorted().map { name in
                let r = snapshot[name] ?? Record()
                var o: [String: JSONValue] = [
                    "scanner": .string(name),
                    "state": .string(r.answered + r.errors == 0 ? "not asked yet" : r.consecutiveErrors > 0 ? "failing" : "ok"),
                    "answered": .int(Int64(r.answered)), "found": .int(Int64(r.found)), "errors": .int(Int64(r.errors)),
                    "consecutive_errors": .int(Int64(r.consecutiveErrors)),
                ]
                if let e = r.lastError { o["last_error"] = .string(e) }
                if let t = r.lastErrorAt { o["last_error_at"] = .string(ISO8601Time.utc(t)) }
                if let t = r.lastAnswerAt { o["last_answer_at"] = .string(ISO8601Time.utc(t)) }
                return .object(o)
            })
    }
}
