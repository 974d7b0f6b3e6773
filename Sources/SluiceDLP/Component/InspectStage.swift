// InspectStage: the DLP scan of a message (R-DLP), once, with every profile
// of the runtime; its typed results carry the count per profile, the
// attachments, redacted findings and what could not be scanned (encrypted,
// bombs, corrupt files), which are logged here (never a value). When the
// runtime archives, the same walk collects the archive's IndexText.
// The scan is CPU work and runs on the pool given to the stage.

import Logging
import NIOPosix
import SluiceCore
import SluicePipeline

public struct InspectStage: MessageStage {
    public let name = "inspect"
    let io: NIOThreadPool
    /// Whether each profile's sample_percent applies (the daemon); a dry run counts every profile.
    let sampled: Bool

    public init(io: NIOThreadPool, sampled: Bool) {
        self.io = io
        self.sampled = sampled
    }

    public func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        guard runtime.inspects(listener: message.envelope.client.listener), let scanner = runtime.dlp else { return }
        let (path, size, sampled) = (message.spoolPath, message.size, self.sampled)
        // The same walk collects the archive's text when this runtime archives (kept for the delivery, not queued).
        let indexText = sampled && runtime.reuses(IndexText.self)
        let (results, text) = try await io.runIfActive { try scanner.inspect(path: path, length: size, sampled: sampled, indexText: indexText) }
        message.verdicts.inspection = results
        message.derived[IndexText.self] = text
        let id = message.envelope.queueID.rawValue
        for (detector, findings) in Dictionary(grouping: results.findings, by: \.detector).sorted(by: { $0.key < $1.key }) {
            let examples = findings.prefix(3).map { "\($0.snippet) (\($0.part) @\($0.offset))" }.joined(separator: "; ")
            logger.event(
                .dlp, level: .notice, "sensitive data found",
                [.queueID: id, .detector: detector, .count: "\(findings.count)", .reason: examples])
        }
        for u in results.unscannable.prefix(5) {
            logger.event(
                .dlp, level: .warning, "attachment could not be scanned",
                [.queueID: id, .detector: "unscannable", .reason: "\(u.reason.rawValue): \(u.path): \(u.detail)"])
        }
        if results.truncated {
            logger.event(.dlp, level: .warning, "message scanned only in part (size or structure limits)", [.queueID: id])
        }
    }
}
