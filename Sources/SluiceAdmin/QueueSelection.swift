// QueueSelection: which queued messages an operation acts on, like
// mailq/postsuper/qshape filters: state, sender, recipient domain, age. A
// message matches when every filter given holds.

import Foundation
import SluiceConfig
import SluiceCore
import SluiceQueue

public struct QueueSelection: Sendable {
    /// active, deferred, held, quarantined (or corrupt: the files queue/corrupt holds).
    public var state: String?
    /// The sender address or domain contains this (case-insensitive).
    public var from: String?
    /// A recipient's domain is this domain or below it.
    public var toDomain: String?
    /// Queued longer ago than this many seconds.
    public var olderThan: Double?

    public init(state: String? = nil, from: String? = nil, toDomain: String? = nil, olderThan: Double? = nil) {
        self.state = state
        self.from = from
        self.toDomain = toDomain
        self.olderThan = olderThan
    }

    public var isEmpty: Bool { state == nil && from == nil && toDomain == nil && olderThan == nil }

    public func matches(_ e: QueueListing, now: Date) -> Bool {
        if let state, e.state.rawValue != state { return false }
        if let from, !e.senderDescription.lowercased().contains(from.lowercased()) { return false }
        if let toDomain {
            let d = toDomain.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard e.recipientDomains.contains(where: { $0 == d || $0.hasSuffix("." + d) }) else { return false }
        }
        if let olderThan, now.timeIntervalSince(e.queuedAt) < olderThan { return false }
        return true
    }
}

/// `sluice queue summary`: messages by destination domain and age, like Postfix's qshape.
public enum QueueSummary {
    /// Upper bounds of the age columns, in minutes (the last column is older than the last bound).
    public static let buckets = [5, 10, 20, 40, 80, 160, 320, 640, 1280]

    public struct Row: Sendable {
        public var domain: String
        public var total = 0
        public var counts = [Int](repeating: 0, count: QueueSummary.buckets.count + 1)
    }

    /// One count per message and destination domain of its pending routes, in the column of its age.
    public static func rows(_ entries: [QueueListing], now: Date) -> (total: Row, domains: [Row]) {
        var byDomain: [String: Row] = [:]
        var total = Row(domain: "TOTAL")
        for e in entries {
            let minutes = now.timeIntervalSince(e.queuedAt) / 60
            let column = buckets.firstIndex { minutes < Double($0) } ?? buckets.count
            total.total += 1
            total.counts[column] += 1
            for d in e.pendingDomains {
                byDomain[d, default: Row(domain: d)].total += 1
                byDomain[d]!.counts[column] += 1
            }
        }
        return (total, byDomain.values.sorted { ($0.total, $1.domain) > ($1.total, $0.domain) })
    }
}
