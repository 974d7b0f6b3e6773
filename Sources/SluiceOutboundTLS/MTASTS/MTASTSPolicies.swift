// MTASTSPolicies: the MTA-STS policies recipient domains publish (RFC 8461
// §5): the domain's TXT record asked each time (libunbound caches it), the
// policy fetched only for an id not in the cache, once however many
// deliveries wait for it, and kept in memory and on disk until max_age. A
// fetch that fails leaves a valid cached policy in force; a policy past
// half its life is fetched again in the background.

import Foundation
import Logging
import NIOPosix
import SluiceCore

actor MTASTSPolicies {
    let resolver: any DNSResolver
    let fetcher: any PolicyFetching
    let directory: PolicyDirectory
    let clock: any SluiceClock
    let io: NIOThreadPool
    let logger: Logger
    private var memory: [String: CachedPolicy] = [:]
    private var fetching: [String: Task<CachedPolicy?, Never>] = [:]
    /// Each domain's disk cache, read once per domain since the start (found or not); concurrent deliveries wait for
    /// the one read.
    private var diskReads: [String: Task<CachedPolicy?, Never>] = [:]
    /// When a fetch last failed, per domain: it is not tried again for `retryAfterFailure` (a policy host that is
    /// down would otherwise hold each delivery to its domain for the client's connect timeout).
    private var failedAt: [String: Date] = [:]
    static let retryAfterFailure: Double = 300

    init(
        resolver: any DNSResolver, fetcher: any PolicyFetching, directory: PolicyDirectory, clock: any SluiceClock, io: NIOThreadPool,
        logger: Logger
    ) {
        self.resolver = resolver
        self.fetcher = fetcher
        self.directory = directory
        self.clock = clock
        self.io = io
        self.logger = logger
    }

    /// The domain's policy in force now, if it has one.
    func published(_ domain: String) async -> CachedPolicy? {
        let now = clock.now()
        let cached = await cachedEntry(domain)
        let valid = cached.flatMap { $0.expires > now ? $0 : nil }
        let answer: DNSAnswer
        do {
            answer = try await resolver.lookup("_mta-sts.\(domain)", .txt)
        } catch {
            // No answer now: what was fetched before still holds (RFC 8461 §5.1).
            return valid
        }
        switch MTASTSRecord.lookup(answer.texts) {
        case .none:
            return valid
        case .record(let record):
            let recentlyFailed = failedAt[domain].map { now.timeIntervalSince($0) < Self.retryAfterFailure } ?? false
            if let valid, valid.id == record.id {
                if valid.wantsRefresh(at: now) && fetching[domain] == nil && !recentlyFailed { _ = fetch(domain, id: record.id, keeping: valid) }
                return valid
            }
            if recentlyFailed && fetching[domain] == nil { return valid }
            return await fetch(domain, id: record.id, keeping: valid).value
        }
    }

    /// One fetch per domain at a time; its result (or what it keeps) for every delivery waiting on it.
    private func fetch(_ domain: String, id: String, keeping valid: CachedPolicy?) -> Task<CachedPolicy?, Never> {
        if let running = fetching[domain] { return running }
        let task = Task { () -> CachedPolicy? in
            let result = await self.download(domain, id: id)
            self.fetching[domain] = nil
            guard let fresh = result else {
                self.failedAt[domain] = self.clock.now()
                return valid
            }
            self.failedAt[domain] = nil
            self.memory[domain] = fresh
            return fresh
        }
        fetching[domain] = task
        return task
    }

    /// Fetches, parses and stores a policy; nil (logged) when there is no usable one.
    private func download(_ domain: String, id: String) async -> CachedPolicy? {
        let policy: MTASTSPolicy
        do {
            policy = try MTASTSPolicy.parse(try await fetcher.fetch(domain))
        } catch {
            logger.event(.tlsPolicy, level: .warning, "MTA-STS policy not fetched; a cached one stays in force until its max_age", [
                .domain: domain, .reason: "\(error)",
            ])
            return nil
        }
        let entry = CachedPolicy(domain: domain, id: id, fetched: clock.now(), policy: policy)
        let directory = self.directory
        do {
            try await io.runIfActive { try directory.write(entry) }
        } catch {
            logger.event(.tlsPolicy, level: .warning, "MTA-STS policy not written to the cache; it holds in memory", [
                .domain: domain, .file: directory.file(domain), .reason: "\(error)",
            ])
        }
        logger.event(.tlsPolicy, level: .info, "MTA-STS policy fetched", [
            .domain: domain, .policy: "mta-sts \(policy.mode.rawValue)", .reason: "id \(id), max_age \(policy.maxAge)s, mx \(policy.mx.joined(separator: " "))",
        ])
        return entry
    }

    /// The cached entry from memory, or from disk the first time a domain is asked after a start.
    private func cachedEntry(_ domain: String) async -> CachedPolicy? {
        if let entry = memory[domain] { return entry }
        if let reading = diskReads[domain] { return await reading.value }
        let directory = self.directory
        let io = self.io
        let task = Task { () -> CachedPolicy? in
            // A cache that cannot be read now (thread pool stopping) is no cache: the policy is fetched.
            guard let entry = try? await io.runIfActive({ directory.read(domain) }) else { return nil }
            if self.memory[domain] == nil { self.memory[domain] = entry }
            return self.memory[domain]
        }
        diskReads[domain] = task
        return await task.value
    }

    /// What `sluice status` shows: every cached policy and whether it is still in force.
    func report() async -> [CachedPolicy] {
        let directory = self.directory
        let onDisk = (try? await io.runIfActive { directory.domains().compactMap(directory.read) }) ?? []  // stopping: none shown
        var all = Dictionary(onDisk.map { ($0.domain, $0) }, uniquingKeysWith: { a, _ in a })
        for (d, e) in memory { all[d] = e }
        return all.values.sorted { $0.domain < $1.domain }
    }
}
