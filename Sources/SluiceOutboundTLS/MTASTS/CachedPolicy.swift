// CachedPolicy: a fetched MTA-STS policy with its id and when it was
// fetched, kept in memory and on disk under data_dir/mta-sts/ (one JSON
// file per domain, written atomically), so that a restart or a policy host
// that is down changes nothing until max_age has passed (RFC 8461 §5.1).

import Foundation

public struct CachedPolicy: Sendable, Codable, Equatable {
    public var domain: String
    public var id: String
    public var fetched: Date
    public var policy: MTASTSPolicy

    /// The end of its validity: fetched + max_age.
    public var expires: Date { fetched.addingTimeInterval(Double(policy.maxAge)) }

    /// Past half its life: worth fetching again in the background while it is still used.
    public func wantsRefresh(at now: Date) -> Bool { now >= fetched.addingTimeInterval(Double(policy.maxAge) / 2) }
}

/// The on-disk side: blocking file I/O, run on the file thread pool by the caller.
struct PolicyDirectory: Sendable {
    let path: String

    func file(_ domain: String) -> String { "\(path)/\(domain).json" }

    func read(_ domain: String) -> CachedPolicy? {
        guard let data = FileManager.default.contents(atPath: file(domain)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        // A file that does not decode (written by hand, truncated by a full disk) is no cache: the policy is fetched.
        guard let entry = try? decoder.decode(CachedPolicy.self, from: data), entry.domain == domain else { return nil }
        return entry
    }

    func write(_ entry: CachedPolicy) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(entry).write(to: URL(fileURLWithPath: file(entry.domain)), options: .atomic)
    }

    /// Every cached domain (for `sluice status`).
    func domains() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []  // no directory: nothing cached yet
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}
