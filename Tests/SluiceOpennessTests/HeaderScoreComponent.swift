// A component that Sources knows nothing of, written as a contributor would
// write a scanner or a delivery target, and registered on the composition
// root with one line (`Components.standard + [HeaderScoreComponent()]`):
//
//   section   `recorders: { NAME: { file: PATH } }`, read by its own reader
//   verdict   HeaderScore ("test_header_score"): the score in X-Test-Score
//   stage     at .scan: reads the header into the verdict
//   condition `header_score: { gt: N }`
//   actions   `record_to: NAME` (a recorder that must be configured) and
//             `score_header: NAME` (writes the verdict into a header, marks the route)
//   target    kind "recorder": appends what it got to the recorder's file
//   warning   a recorder no rule set delivers to
//   status    how many messages each recorder got
//   store     a second backend, "test-memory", for the QuarantineIndex contract

import Foundation
import Logging
import NIOConcurrencyHelpers
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceQuarantine
import SluiceQueue
import SluiceRules

struct HeaderScore: Verdict, Equatable {
    static let name = "test_header_score"
    var score: Double
    var summary: String { "score \(score)" }
}

struct RecordersSection: ConfigSection {
    static let key = "recorders"
    /// Recorder name -> the file it appends to.
    var files: [String: String] = [:]

    init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        for (name, entry) in try node.namedEntries() {
            let m = try entry.mapping(allowed: ["file"])
            guard let file = m["file"] else { throw entry.error("a recorder needs 'file:'") }
            files[name] = context.resolve(try file.nonEmptyString())
        }
    }
}

struct HeaderScoreStage: MessageStage {
    let name = "header-score"

    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        guard let text = message.headers.first("X-Test-Score"), let score = Double(text.trimmingCharacters(in: .whitespaces)) else { return }
        message.verdicts[HeaderScore.self] = HeaderScore(score: score)
    }
}

struct HeaderScoreCondition: RuleCondition {
    let above: Double

    func matches(_ recipient: MailAddress, _ context: RuleContext) -> Bool {
        guard let found = context.verdicts[HeaderScore.self] else { return false }
        return found.score > above
    }

    var explanation: String { "header score > \(above)" }
    var reads: Set<String> { [HeaderScore.name] }

    struct Kind: RuleConditionKind {
        let key = "header_score"

        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleCondition {
            let m = try value.mapping(allowed: ["gt"])
            guard let gt = m["gt"] else { throw value.error("header_score needs 'gt:'") }
            guard let n = Double(try gt.string()) else { throw gt.error("expected a number") }
            return HeaderScoreCondition(above: n)
        }
    }
}

struct RecordAction: RuleAction {
    let recorder: String
    var target: RouteTarget { RouteTarget(kind: "recorder", instance: recorder) }

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.deliver(Delivery(target: target))
        return .next
    }

    var logText: String { "record_to \(recorder)" }
    var routes: [RouteTarget] { [target] }

    struct Kind: RuleActionKind {
        let key = "record_to"
        let recorders: Set<String>

        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            let name = try value.nonEmptyString()
            guard recorders.contains(name) else { throw value.error("no recorder '\(name)' under recorders:") }
            return RecordAction(recorder: name)
        }
    }
}

struct ScoreHeaderAction: RuleAction {
    let header: String

    func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        guard let found = context.verdicts[HeaderScore.self] else { return .next }
        outcome.addHeaders.append("\(header): \(found.score)")
        outcome.mark("test-score", "\(found.score)")
        return .next
    }

    var logText: String { "score_header \(header)" }

    struct Kind: RuleActionKind {
        let key = "score_header"
        func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            ScoreHeaderAction(header: try value.nonEmptyString())
        }
    }
}

/// What a recorder got, one JSON object per line in its file.
struct Recording: Codable, Equatable {
    var recipients: [String]
    var prefix: String
    var marks: [String: [String]]
    var verdicts: [String]
    var size: Int
}

final class RecorderTarget: DeliveryTarget {
    let files: @Sendable () -> [String: String]
    let counts = NIOLockedValueBox<[String: Int]>([:])

    init(files: @escaping @Sendable () -> [String: String]) { self.files = files }

    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        guard let file = files()[route.instance] else {
            throw SMTPError(451, .init(4, 3, 5), "No such recorder", reason: "recorder \(route.instance) is not configured")
        }
        let record = Recording(
            recipients: recipients.map(\.description), prefix: String(decoding: message.prefixBytes, as: UTF8.self),
            marks: message.marks, verdicts: message.verdicts.names.sorted(), size: message.deliveredSize)
        let line = try JSONEncoder().encode(record) + Data("\n".utf8)
        if let h = FileHandle(forWritingAtPath: file) {
            try h.seekToEnd()
            try h.write(contentsOf: line)
            try h.close()
        } else {
            try line.write(to: URL(fileURLWithPath: file))
        }
        counts.withLockedValue { $0[route.instance, default: 0] += 1 }
        return DeliveryReport(detail: "recorded in \(file)")
    }
}

/// The QuarantineIndex contract kept in memory: what a second storage backend looks like.
final class MemoryQuarantineIndex: QuarantineIndex {
    let records = NIOLockedValueBox<[QueueID: QuarantineRecord]>([:])

    func record(_ record: QuarantineRecord) async throws { records.withLockedValue { $0[record.queueID] = record } }
    func remove(_ id: QueueID) async throws { _ = records.withLockedValue { $0.removeValue(forKey: id) } }

    func list(_ q: QuarantineQuery) async throws -> [QuarantineRecord] {
        records.withLockedValue { Array($0.values) }
            .filter { r in
                (q.rule.map { rule in r.reasons.contains { $0.hasPrefix("rule \(rule) ") } } ?? true)
                    && (q.from.map { r.sender.lowercased().contains($0.lowercased()) } ?? true)
                    && (q.queuedBefore.map { r.queuedAt < $0 } ?? true) && (q.node.map { r.node == $0 } ?? true)
            }
            .sorted { ($0.queuedAt, $0.queueID) < ($1.queuedAt, $1.queueID) }.prefix(q.limit).map { $0 }
    }

    func record(for id: QueueID) async throws -> QuarantineRecord? { records.withLockedValue { $0[id] } }
    func ids(node: String) async throws -> [QueueID] { records.withLockedValue { $0.values.filter { $0.node == node }.map(\.queueID) } }
}

struct HeaderScoreComponent: Component {
    let name = "header-score"
    /// The index the "test-memory" backend made, for the test to look into.
    let quarantine = MemoryQuarantineIndex()

    func provideStores(_ stores: inout StoreRegistry) {
        let index = quarantine
        stores.provide((any QuarantineIndex).self, backend: "test-memory") { _ in index }
    }
    var sections: [any ConfigSection.Type] { [RecordersSection.self] }

    func configure(_ runtime: inout RuntimeBuilder) async throws {
        let recorders = Set(runtime.config.section(RecordersSection.self)?.files.keys ?? [:].keys)
        try runtime.register(HeaderScore.self)
        try runtime.declareTarget(kind: "recorder", instances: recorders)
        try runtime.add(HeaderScoreCondition.Kind())
        try runtime.add(RecordAction.Kind(recorders: recorders))
        try runtime.add(ScoreHeaderAction.Kind())
    }

    func review(_ runtime: Runtime) -> [CheckNote] {
        let used = Set(runtime.ruleSets.values.flatMap(\.allActions).compactMap { ($0 as? RecordAction)?.recorder })
        let configured = runtime.config.section(RecordersSection.self)?.files.keys.sorted() ?? []
        return configured.filter { !used.contains($0) }.map { .warning("recorder \($0): no rule delivers to it") }
    }

    func activate(_ host: inout HostBuilder) throws {
        host.add(stage: HeaderScoreStage(), at: .scan)
        guard host.mode == .daemon else { return }
        let runtime = host.environment.runtime
        let target = RecorderTarget { runtime.current.config.section(RecordersSection.self)?.files ?? [:] }
        try host.add(target: target, kind: "recorder")
        host.add(status: StatusSection(name: "recorders") { .object(target.counts.withLockedValue { $0 }.mapValues { .int(Int64($0)) }) })
    }
}
