// VirusScanStage: clamd asked about each message at end of DATA, on the
// listeners whose rules test `virus:`. The spool file is streamed (INSTREAM)
// on the file pool, never on the event loops. When clamd cannot answer
// (down, timeout, an error, a message over its stream limit): with
// `on_error: tempfail` the message is refused with 451 4.7.1 (the client
// keeps it and retries; nothing accepted is lost); with `accept` it goes on
// with the verdict "unavailable", logged.

import Logging
import NIOPosix
import SluiceCore
import SluicePipeline

struct VirusScanStage: MessageStage {
    let name = "virus"
    let io: NIOThreadPool

    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        guard let endpoint = runtime.config.scanners?.virus,
            runtime.ruleSet(forListener: message.envelope.client.listener)?.reads.contains(VirusResults.name) ?? false
        else { return }
        let (path, size) = (message.spoolPath, message.size)
        let client = ClamdClient(endpoint: endpoint)
        let id = message.envelope.queueID.rawValue
        do {
            let answer = try await io.runIfActive { try client.scan(path: path, length: size) }
            switch answer {
            case .clean:
                message.verdicts[VirusResults.self] = VirusResults()
            case .infected(let signature):
                message.verdicts[VirusResults.self] = VirusResults(found: signature)
                logger.event(.verify, level: .notice, "virus found", [.queueID: id, .detector: "virus", .reason: signature])
            }
        } catch {
            let why = "\(error)"
            logger.event(.error, level: .warning, "virus scanner unavailable", [.queueID: id, .error: why, .detector: "virus"])
            guard endpoint.onError == .accept else {
                throw SMTPError(451, .init(4, 7, 1), "Virus scanner unavailable, try again later", reason: why)
            }
            message.verdicts[VirusResults.self] = VirusResults(unavailable: why)
        }
    }
}
