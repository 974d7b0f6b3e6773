// DLPCheck: the inspect stage. Scans each message received on a listener with
// a rule set once, with every profile of rules/dlp.yaml; the count per profile
// becomes the annotation "dlp.NAME" that `dlp:` conditions test, and each
// detector's findings are logged with part, offset and redacted snippets
// (never the values). The scan runs on the blocking pool; profiles are
// replaced whole on reload.

import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore

public struct DLPCheck: MessageCheck {
    public let name = "dlp"
    /// The scanner, and the listeners whose messages are read: those with a rule set when profiles exist,
    /// else only those whose rule set tests attachments (nothing else needs the MIME structure).
    let state: NIOLockedValueBox<(DLPScanner, Set<String>)>
    let io: NIOThreadPool
    let logger: Logger

    public init(scanner: DLPScanner, io: NIOThreadPool, logger: Logger, listeners: Set<String>) {
        state = NIOLockedValueBox((scanner, listeners))
        self.io = io
        self.logger = logger
    }

    public func replace(_ new: DLPScanner, listeners: Set<String>) { state.withLockedValue { $0 = (new, listeners) } }

    public func check(_ message: inout ReceivedMessage) async throws {
        let (current, listeners) = state.withLockedValue { $0 }
        guard listeners.contains(message.envelope.client.listener) else { return }
        let (path, size) = (message.spoolPath, message.size)
        let percents = current.book.profiles.mapValues(\.samplePercent)
        let report = try await io.runIfActive {
            try current.scan(path: path, length: size) { profile in Int.random(in: 0..<100) < (percents[profile] ?? 100) }
        }
        // What attachment conditions test, whether or not profiles are defined.
        let attachments = report.parts.filter { $0.filename != nil }
        message.annotations["attachment.names"] = attachments.compactMap(\.filename).joined(separator: "\n")
        message.annotations["attachment.types"] = attachments.map(\.contentType).joined(separator: "\n")
        for (profile, count) in report.counts {
            message.annotations["dlp.\(profile)"] = "\(count)"
            message.annotations["dlp.\(profile).min"] = "\(current.book.profiles[profile]?.minCount ?? 1)"
        }
        let id = message.envelope.queueID.rawValue
        for (detector, findings) in Dictionary(grouping: report.findings, by: \.detector).sorted(by: { $0.key < $1.key }) {
            let examples = findings.prefix(3).map { "\($0.snippet) (\($0.part) @\($0.offset))" }.joined(separator: "; ")
            logger.event(
                .dlp, level: .notice, "sensitive data found",
                [.queueID: id, .detector: detector, .count: "\(findings.count)", .reason: examples])
        }
        if report.truncated {
            logger.event(.dlp, level: .warning, "message scanned only in part (size or structure limits)", [.queueID: id])
        }
    }
}
