// ArchiveBench: fills a scratch archive with synthetic messages (a year of
// an organisation's mail: 5,000 senders in 37 departments, 20,000 partner
// recipients, client addresses, users, listeners, DMARC results, DLP
// profiles, a few held) and times ingest and every search filter, p50 and p99,
// on the SQLite store itself (`sluice archive bench`; bench/archive.sh runs it
// at 200 k and 2 M messages).

import Foundation

public enum ArchiveBench {
    /// Fills `db` (deleted first) with `messages` synthetic messages and times every filter `runs` times; each figure
    /// is one line given to `output`.
    public static func run(messages: Int, db: String, runs: Int, output: (String) -> Void) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: db + suffix) {
            try FileManager.default.removeItem(atPath: db + suffix)
        }
        let store = try SQLiteArchiveStore(path: db)
        let start = Date().addingTimeInterval(-365 * 86400)
        let began = Date()
        var batch: [ArchiveEntry] = []
        for i in 0..<messages {
            batch.append(entry(i, of: messages, start: start))
            if batch.count == 1000 {
                try store.add(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try store.add(batch) }
        let took = Date().timeIntervalSince(began)
        output(String(format: "ingest: %d messages in %.1f s: %.0f messages/s (batches of 1000)", messages, took, Double(messages) / took))
        for (name, query) in shapes(start: start) {
            var times: [Double] = []
            var found = 0
            var total = 0
            for _ in 0..<runs {
                let t = Date()
                found = try store.search(query).count
                times.append(Date().timeIntervalSince(t) * 1000)
            }
            total = try store.count(query)
            times.sort()
            output(String(
                format: "search %-34@ p50 %7.2f ms  p99 %7.2f ms  (%d shown of %d)", name + ":", times[times.count / 2],
                times[min(times.count - 1, times.count * 99 / 100)], found, total))
        }
        // The database and its WAL (absent after a checkpoint: 0 bytes).
        let size = try [db, db + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }
            .map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0 }.reduce(0, +)
        output(String(format: "database: %.1f MB (%.0f bytes per message)", Double(size) / 1_000_000, Double(size) / Double(max(1, messages))))
    }

    static let words = [
        "report", "budget", "falcon", "osprey", "contract", "invoice", "meeting", "shipment", "quarterly", "review",
        "merger", "payroll", "roadmap", "incident", "customer", "renewal", "audit", "forecast", "launch", "hiring",
    ]

    /// Message `i`: deterministic, so that runs at different sizes see the same shapes of data.
    static func entry(_ i: Int, of messages: Int, start: Date) -> ArchiveEntry {
        var rng = SplitMix(seed: UInt64(i))
        func word() -> String { words[Int(rng.next() % UInt64(words.count))] }
        let sender = "user\(i % 5000)@dept\(i % 37).example.test"
        let rcpt = "peer\(rng.next() % 20000)@partner\(i % 211).test"
        let subject = (0..<5).map { _ in word() }.joined(separator: " ")
        let body = (0..<60).map { _ in word() }.joined(separator: " ")
        let raw = Array("From: \(sender)\r\nTo: \(rcpt)\r\nSubject: \(subject)\r\nMessage-ID: <\(i)@bench>\r\n\r\n\(body)\r\n".utf8)
        var e = ArchiveEntry(
            archive: i % 10 == 0 ? "legal" : "default", queueID: "B\(i)",
            receivedAt: start.addingTimeInterval(Double(i) / Double(messages) * 365 * 86400), sender: sender, recipients: [rcpt],
            from: sender, to: rcpt, cc: "", subject: subject, messageID: "<\(i)@bench>", attachments: i % 7 == 0 ? ["file\(i).pdf"] : [],
            dlpSummary: "", authSummary: "", bodyText: body, raw: raw)
        e.submission.clientIP = "10.\(i % 4).\(i / 7 % 250).\(i % 250)"
        e.submission.listener = ["relay", "submission", "inbound"][i % 3]
        e.submission.user = i % 3 == 1 ? "app\(i % 200)" : ""
        e.submission.dmarc = i % 3 == 2 ? (i % 50 == 2 ? "fail" : "pass") : ""
        e.submission.dlpProfiles = i % 97 == 0 ? ["pci"] : []
        return e
    }

    static func shapes(start: Date) -> [(String, ArchiveQuery)] {
        let march = start.addingTimeInterval(60 * 86400)
        func q(_ set: (inout ArchiveQuery) -> Void) -> ArchiveQuery {
            var query = ArchiveQuery()
            set(&query)
            return query
        }
        return [
            ("sender address", q { $0.from = "user1234@dept13.example.test" }),
            ("sender local part", q { $0.from = "user1234@" }),
            ("sender domain", q { $0.from = "@dept3.example.test" }),
            ("recipient domain", q { $0.to = "partner17.test" }),
            ("recipient domain in a month", q { $0.to = "partner17.test"; $0.since = march; $0.until = march.addingTimeInterval(31 * 86400) }),
            ("one day", q { $0.since = march; $0.until = march.addingTimeInterval(86400) }),
            ("client IP", q { $0.clientIP = "10.1.14.101" }),
            ("user", q { $0.user = "app7" }),
            ("listener", q { $0.listener = "submission" }),
            ("DMARC fail", q { $0.dmarc = "fail" }),
            ("DLP profile", q { $0.dlpProfile = "pci" }),
            ("one word", q { $0.text = "osprey" }),
            ("phrase", q { $0.text = "\"merger payroll\"" }),
            ("prefix, word, archive, sender domain", q { $0.text = "forec* audit"; $0.archive = "legal"; $0.from = "dept3.example.test" }),
        ]
    }
}

/// A small deterministic generator (SplitMix64) for the synthetic archive.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
