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
    let scanner: NIOLockedValueBox<DLPScanner>
    let io: NIOThreadPool
    let logger: Logger
    /// Listeners whose messages are scanned (those with a rule set).
    let listeners: Set<String>

    public init(scanner: DLPScanner, io: NIOThreadPool, logger: Logger, listeners: Set<String>) {
        self.scanner = NIOLockedValueBox(scanner)
        self.io = io
        self.logger = logger
        self.listeners = listeners
    }

    public func replace(_ new: DLPScanner) { scanner.withLockedValue { $0 = new } }

    public func check(_ message: inout ReceivedMessage) async throws {
        let current = scanner.withLockedValue { $0 }
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
