// The filters every `sluice queue` verb takes to choose messages, like
// mailq/postsuper/qshape: --state, --from, --to-domain, --older. A message
// matches when every filter given holds.

import ArgumentParser
import Foundation
import SluiceConfig
import SluiceCore
import SluiceQueue

struct QueueFilter: ParsableArguments {
    @Option(name: .long, help: "active, deferred, held, quarantined (corrupt files are listed by `queue list`).")
    var state: String?
    @Option(name: .long, help: "Sender address or domain contains this (case-insensitive).") var from: String?
    @Option(name: .long, help: "A recipient's domain is this domain or below it.") var toDomain: String?
    @Option(name: .long, help: "Queued longer ago than this (30m, 2h, 1d).") var older: String?

    var isEmpty: Bool { state == nil && from == nil && toDomain == nil && older == nil }

    func validate() throws {
        if let state, QueueState(rawValue: state) == nil, state != "corrupt" {
            throw ValidationError("--state is one of \(QueueState.allCases.map(\.rawValue).joined(separator: ", ")), corrupt")
        }
        if let older, DurationText.parse(older) == nil { throw ValidationError("--older '\(older)' is not a duration like 30m, 2h or 1d") }
    }

    func matches(_ e: QueueListing, now: Date = Date()) -> Bool {
        if let state, e.state.rawValue != state { return false }
        if let from, !e.senderDescription.lowercased().contains(from.lowercased()) { return false }
        if let toDomain {
            let d = toDomain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard e.recipientDomains.contains(where: { $0 == d || $0.hasSuffix("." + d) }) else { return false }
        }
        if let older, let seconds = DurationText.parse(older), now.timeIntervalSince(e.queuedAt) < seconds { return false }
        return true
    }

    /// The readable messages that match, oldest first; unreadable ones are reported on stderr.
    func select(_ store: QueueStore) throws -> [QueueListing] {
        var out: [QueueListing] = []
        try forEachMatch(store) { out += $0 }
        return out
    }

    /// The full entries of the matches (for what a listing does not hold: quarantine reasons, verdicts).
    func selectEntries(_ store: QueueStore) throws -> [QueueEntry] {
        try select(store).compactMap { l in
            do { return try store.load(l.id) } catch {
                FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
                return nil
            }
        }
    }

    /// The matches a chunk at a time, read on every core, for listings that print as they go.
    func forEachMatch(_ store: QueueStore, _ body: ([QueueListing]) throws -> Void) throws {
        let now = Date()
        try store.forEachListingChunk(threads: ProcessInfo.processInfo.activeProcessorCount) { chunk in
            var found: [QueueListing] = []
            for (_, result) in chunk {
                switch result {
                case .success(let e): if matches(e, now: now) { found.append(e) }
                case .failure(let error): FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
                }
            }
            try body(found)
        }
    }
}

/// `sluice queue summary`: messages by destination domain and age, like Postfix's qshape.
struct QueueSummary {
    /// Upper bounds of the age columns, in minutes (the last column is older than the last bound).
    static let buckets = [5, 10, 20, 40, 80, 160, 320, 640, 1280]

    struct Row {
        var domain: String
        var total = 0
        var counts = [Int](repeating: 0, count: QueueSummary.buckets.count + 1)
    }

    /// One count per message and destination domain of its pending routes, in the column of its age.
    static func rows(_ entries: [QueueListing], now: Date = Date()) -> (total: Row, domains: [Row]) {
        var byDomain: [String: Row] = [:]
        var total = Row(domain: "TOTAL")
        for e in entries {
            let minutes = now.timeIntervalSince(e.queuedAt) / 60
            let column = buckets.firstIndex { minutes < Double($0) } ?? buckets.count
            let domains = e.pendingDomains
            total.total += 1
            total.counts[column] += 1
            for d in domains {
                byDomain[d, default: Row(domain: d)].total += 1
                byDomain[d]!.counts[column] += 1
            }
        }
        return (total, byDomain.values.sorted { ($0.total, $1.domain) > ($1.total, $0.domain) })
    }
}
