// ScanStage: a scanner daemon asked about each message at end of DATA (clamd
// for `virus:`, spamd for `spam:`), on the listeners whose rules test its
// verdict. The spool file is streamed on the file pool, never on the event
// loops. When the scanner cannot answer (down, timeout, an error, garbage):
// with `on_error: tempfail` the message is refused with 451 4.7.1 (the
// client keeps it and retries; nothing accepted is lost); with `accept` it
// goes on with the verdict "unavailable", logged.

import Logging
import NIOPosix
import SluiceCore
import SluicePipeline

struct ScanStage<V: Verdict>: MessageStage {
    let name: String
    let io: NIOThreadPool
    let health: ScannerHealth
    let clock: any SluiceClock
    /// The scanner's settings in a configuration (nil: not configured).
    let endpoint: @Sendable (ScannersSection?) -> ScannerEndpoint?
    let scan: @Sendable (ScannerEndpoint, _ path: String, _ length: Int) throws -> V
    let unavailable: @Sendable (_ why: String) -> V
    /// What to log about a verdict at notice level (a virus's name, a spam score), nil: nothing.
    let noteworthy: @Sendable (V) -> String?

    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        // A verdict already there was given to a dry run (`rules test --spam-score ...`): it stands.
        guard message.verdicts[V.self] == nil, let endpoint = endpoint(runtime.config.scanners),
            runtime.ruleSet(forListener: message.envelope.client.listener)?.reads.contains(V.name) ?? false
        else { return }
        let (path, size, scan) = (message.spoolPath, message.size, self.scan)
        let id = message.envelope.queueID.rawValue
        let started = Stopwatch()
        do {
            let verdict = try await io.runIfActive { try scan(endpoint, path, size) }
            message.verdicts[V.self] = verdict
            let note = noteworthy(verdict)
            health.answered(name, found: note != nil, seconds: started.seconds, at: clock.now())
            if let note {
                logger.event(.verify, level: .notice, "\(name) scanner: \(note)", [.queueID: id, .detector: name, .reason: note])
            }
        } catch {
            let why = "\(error)"
            health.failed(name, error: why, seconds: started.seconds, at: clock.now())
            logger.event(.error, level: .warning, "\(name) scanner unavailable", [.queueID: id, .error: why, .detector: name])
            guard endpoint.onError == .accept else {
                throw SMTPError(451, .init(4, 7, 1), "\(name.prefix(1).uppercased() + name.dropFirst()) scanner unavailable, try again later", reason: why)
            }
            message.verdicts[V.self] = unavailable(why)
        }
    }
}

extension ScanStage where V == VirusResults {
    static func virus(io: NIOThreadPool, health: ScannerHealth, clock: any SluiceClock) -> ScanStage {
        ScanStage(
            name: "virus", io: io, health: health, clock: clock, endpoint: { $0?.virus },
            scan: { endpoint, path, length in
                switch try ClamdClient(endpoint: endpoint).scan(path: path, length: length) {
                case .clean: return VirusResults()
                case .infected(let signature): return VirusResults(found: signature)
                }
            },
            unavailable: { VirusResults(unavailable: $0) }, noteworthy: { $0.found.map { "found \($0)" } })
    }
}

extension ScanStage where V == SpamResults {
    static func spam(io: NIOThreadPool, health: ScannerHealth, clock: any SluiceClock) -> ScanStage {
        ScanStage(
            name: "spam", io: io, health: health, clock: clock, endpoint: { $0?.spam },
            scan: { endpoint, path, length in
                let answer = try SpamdClient(endpoint: endpoint).check(path: path, length: length)
                var r = SpamResults()
                (r.isSpam, r.score, r.threshold, r.symbols) = (answer.isSpam, answer.score, answer.threshold, answer.symbols)
                return r
            },
            unavailable: { why in
                var r = SpamResults()
                r.unavailable = why
                return r
            },
            noteworthy: { $0.isSpam ? "spam, \($0.summary) \($0.symbols.prefix(10).joined(separator: ","))" : nil })
    }
}
