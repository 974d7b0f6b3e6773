// PatternSet: many regular expressions compiled once into one vectorscan
// database and matched in a single pass over the text (R-DLP-5). Matches
// report the pattern id and the leftmost start and end offsets; what they
// mean is for the detectors to decide. Each concurrent scan needs its own
// scratch space: scans borrow one from a small pool and give it back, so a
// message of many small parts does not pay for a clone (and a copy of the
// SOM state) per part.

import CHyperscan
import Foundation
import NIOConcurrencyHelpers

public struct PatternError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public struct PatternMatch: Sendable, Hashable {
    public var id: Int
    public var start: Int
    public var end: Int
}

public final class PatternSet: @unchecked Sendable {
    public struct Pattern: Sendable {
        public var id: Int
        public var expression: String
        public var caseless: Bool
        /// Bytes that continue a match: a match followed by one of them is not reported (see `Detector.edge`).
        public var continuation: Set<UInt8>

        public init(id: Int, expression: String, caseless: Bool = false, continuation: Set<UInt8> = []) {
            self.id = id
            self.expression = expression
            self.caseless = caseless
            self.continuation = continuation
        }
    }

    private let database: OpaquePointer
    /// A prototype scratch, cloned when the pool is empty.
    private let prototype: OpaquePointer
    /// Scratches not in use; at most `poolLimit` are kept.
    private let pool = NIOLockedValueBox<[OpaquePointer]>([])
    private static let poolLimit = 16
    public let count: Int
    /// 256 flags per pattern id: whether a match followed by that byte is dropped in the callback, before
    /// any allocation (a run of digits or letters matches at every byte; only its end can be a value).
    private let continues: [Bool]

    public init(_ patterns: [Pattern]) throws {
        guard !patterns.isEmpty else { throw PatternError(description: "no patterns") }
        var db: OpaquePointer?
        var compileError: UnsafeMutablePointer<hs_compile_error_t>?
        let cStrings = patterns.map { strdup($0.expression) }
        defer { cStrings.forEach { free($0) } }
        let expressions = cStrings.map { UnsafePointer<CChar>($0) }
        let flags = patterns.map { UInt32(HS_FLAG_SOM_LEFTMOST) | ($0.caseless ? UInt32(HS_FLAG_CASELESS) : 0) }
        let ids = patterns.map { UInt32($0.id) }
        let status = expressions.withUnsafeBufferPointer { e in
            flags.withUnsafeBufferPointer { f in
                ids.withUnsafeBufferPointer { i in
                    hs_compile_multi(e.baseAddress, f.baseAddress, i.baseAddress, UInt32(patterns.count), UInt32(HS_MODE_BLOCK), nil, &db, &compileError)
                }
            }
        }
        guard status == HS_SUCCESS, let db else {
            let message = compileError.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "error \(status)"
            let which = compileError.map { Int($0.pointee.expression) } ?? -1
            if let compileError { hs_free_compile_error(compileError) }
            let culprit = which >= 0 && which < patterns.count ? " in '\(patterns[which].expression)'" : ""
            throw PatternError(description: "vectorscan: \(message)\(culprit)")
        }
        var scratch: OpaquePointer?
        guard hs_alloc_scratch(db, &scratch) == HS_SUCCESS, let scratch else {
            hs_free_database(db)
            throw PatternError(description: "vectorscan could not allocate scratch space")
        }
        database = db
        prototype = scratch
        count = patterns.count
        var continues = [Bool](repeating: false, count: (patterns.map(\.id).max()! + 1) * 256)
        for p in patterns { for b in p.continuation { continues[p.id * 256 + Int(b)] = true } }
        self.continues = continues
    }

    deinit {
        pool.withLockedValue { $0.forEach { hs_free_scratch($0) } }
        hs_free_scratch(prototype)
        hs_free_database(database)
    }

    /// Every match in `text` (offsets relative to it), in the order vectorscan reports them.
    ///
    /// Long runs of digits or capitals (a number dump, uppercase hex) cost vectorscan a tracked start for
    /// every overlapping candidate, ~10 MB/s, though none of them can be a value: values end at a byte
    /// outside their class, and no predefined value is 64 such bytes long. A scan whose callback drops many
    /// matches inside runs stops early and is redone on a copy with those runs blanked (same offsets).
    public func scan(_ text: UnsafeRawBufferPointer) throws -> [PatternMatch] {
        let first = try scan(text, floodLimit: Self.floodLimit)
        guard first.flooded else { return first.matches }
        let masked = Self.blankingLongRuns(text)
        return try masked.withUnsafeBytes { try scan($0, floodLimit: nil).matches }
    }

    /// Matches dropped inside runs of digits and capitals before a scan is redone with the runs blanked.
    static let floodLimit = 1024
    /// Runs of [0-9A-Z] at least this long are blanked; longer than any predefined value with its separators.
    static let longRun = 64

    private func scan(_ text: UnsafeRawBufferPointer, floodLimit: Int?) throws -> (matches: [PatternMatch], flooded: Bool) {
        let scratch = try borrowScratch()
        defer { returnScratch(scratch) }
        return try continues.withUnsafeBufferPointer { continues in
            let collector = MatchCollector(text: text.bindMemory(to: UInt8.self), continues: continues, floodLimit: floodLimit)
            let box = Unmanaged.passRetained(collector)
            defer { box.release() }
            let status = hs_scan(
                database, text.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(text.count), 0, scratch, onMatch, box.toOpaque())
            guard status == HS_SUCCESS || status == HS_SCAN_TERMINATED else { throw PatternError(description: "vectorscan scan error \(status)") }
            return (collector.matches, collector.flooded)
        }
    }

    /// A copy of `text` with every run of at least `longRun` ASCII digits and capitals replaced by spaces.
    static func blankingLongRuns(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        var out = Array(text)
        var runStart = 0
        for i in 0...out.count {
            let inRun = i < out.count && ((out[i] >= 48 && out[i] <= 57) || (out[i] >= 65 && out[i] <= 90))
            if inRun { continue }
            if i - runStart >= longRun { for j in runStart..<i { out[j] = 32 } }
            runStart = i + 1
        }
        return out
    }

    public func scan(_ bytes: [UInt8]) throws -> [PatternMatch] {
        try bytes.withUnsafeBytes { try scan($0) }
    }

    private func borrowScratch() throws -> OpaquePointer {
        if let free = pool.withLockedValue({ $0.popLast() }) { return free }
        var scratch: OpaquePointer?
        guard hs_clone_scratch(prototype, &scratch) == HS_SUCCESS, let scratch else {
            throw PatternError(description: "vectorscan could not clone scratch space")
        }
        return scratch
    }

    private func returnScratch(_ scratch: OpaquePointer) {
        let kept = pool.withLockedValue { free in
            guard free.count < Self.poolLimit else { return false }
            free.append(scratch)
            return true
        }
        if !kept { hs_free_scratch(scratch) }
    }
}

final class MatchCollector {
    var matches: [PatternMatch] = []
    let text: UnsafeBufferPointer<UInt8>
    let continues: UnsafeBufferPointer<Bool>
    /// Stop after this many matches dropped inside runs (nil: never).
    let floodLimit: Int?
    var dropped = 0
    var flooded = false

    init(text: UnsafeBufferPointer<UInt8>, continues: UnsafeBufferPointer<Bool>, floodLimit: Int?) {
        self.text = text
        self.continues = continues
        self.floodLimit = floodLimit
    }

    /// A runaway pattern cannot make a scan hold unbounded memory.
    static let limit = 100_000
}

private let onMatch: match_event_handler = { id, from, to, _, context in
    guard let context else { return 1 }
    let collector = Unmanaged<MatchCollector>.fromOpaque(context).takeUnretainedValue()
    let end = Int(to)
    if end < collector.text.count, collector.continues[Int(id) * 256 + Int(collector.text[end])] {
        let next = collector.text[end]
        // Counted only where blanking would help: inside runs of digits and capitals.
        guard (next >= 48 && next <= 57) || (next >= 65 && next <= 90) else { return 0 }
        collector.dropped += 1
        if let limit = collector.floodLimit, collector.dropped >= limit {
            collector.flooded = true
            return 1
        }
        return 0
    }
    collector.matches.append(PatternMatch(id: Int(id), start: Int(from), end: Int(to)))
    return collector.matches.count >= MatchCollector.limit ? 1 : 0
}
