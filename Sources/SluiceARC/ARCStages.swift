// The ARC stage and modifier: on listeners with `verify: [..., arc]` the
// chain the message arrived with is validated after DATA (ARCResults); on
// routes an `arc_seal:` rule marked, this hop's ARC set is added as the last
// change to the message, after DKIM signing (the seal covers the signature).

import Logging
import NIOPosix
import SluiceCore
import SluiceMailAuth
import SluicePipeline
import SluiceQueue

struct ARCVerifyStage: MessageStage {
    let name = "arc"
    let verifier: ARCVerifier
    let io: NIOThreadPool

    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        guard runtime.listener(message.envelope.client.listener)?.verify.contains("arc") ?? false else { return }
        let (path, size) = (message.spoolPath, message.size)
        let header = try await io.runIfActive { try QueueFileReader.headerSection(path, length: size) }
        // The body is read on the file pool; the checks wait on DNS, off it.
        let bodyDigestInput = try await io.runIfActive { () -> [[UInt8]] in
            var chunks: [[UInt8]] = []
            try QueueFileReader.chunks(path, offset: header.count, length: size - header.count) { chunks.append($0) }
            return chunks
        }
        let result = await verifier.verify(header: header, trusted: runtime.config.arcTrustedSealers) { feed in
            for c in bodyDigestInput { try feed(c) }
        }
        message.verdicts[ARCResults.self] = result
        logger.event(.verify, "ARC chain checked", [.queueID: message.envelope.queueID.rawValue, .reason: result.method])
    }
}

struct ARCSealModifier: MessageModifier {
    let keyring: @Sendable () -> DKIMKeyring
    let authservID: String
    let io: NIOThreadPool
    let clock: any SluiceClock
    let logger: Logger

    func modify(_ message: inout OutgoingMessage) async throws {
        guard let domain = message.marks[ARCSealAction.mark]?.last else { return }
        guard let signer = keyring().signers(for: domain).first(where: { $0.key.algorithm == .rsaSHA256 }) else {
            logger.event(.error, level: .warning, "not ARC-sealed: no active RSA key", [.queueID: message.envelope.queueID.rawValue, .reason: domain])
            return
        }
        let header = try await message.headerSection(io: io)
        let full = Array(message.prependedHeaders.map { $0 + "\r\n" }.joined().utf8) + header
        let results = Self.ourResults(message.prependedHeaders, authservID: authservID)
        let chain = message.verdicts[ARCResults.self]?.status ?? .none
        let (path, length, offset) = (message.bodyPath, message.bodyLength, message.bodyOffset)
        let time = Int(clock.now().timeIntervalSince1970)
        let sealer = ARCSealer(signer: signer)
        let id = authservID
        do {
            let fields = try await io.runIfActive {
                try sealer.seal(header: full, authservID: id, results: results, chain: chain, time: time) { feed in
                    try QueueFileReader.chunks(path, offset: offset, length: length - offset, feed)
                }
            }
            message.prependedHeaders.insert(contentsOf: fields, at: 0)
        } catch let e as ARCSealer.Failure {
            logger.event(.error, level: .warning, "not ARC-sealed", [.queueID: message.envelope.queueID.rawValue, .reason: e.description])
        }
    }

    /// The result parts of this hop's Authentication-Results fields ("spf=pass smtp.mailfrom=...").
    static func ourResults(_ prepended: [String], authservID: String) -> [String] {
        let prefix = "authentication-results: \(authservID.lowercased());"
        var out: [String] = []
        for field in prepended where field.lowercased().hasPrefix(prefix) {
            let value = field.dropFirst(prefix.count)
            for part in value.split(separator: ";") {
                // "\r\n" is one Character in Swift: unfold it first, then make every whitespace run one space.
                let text = part.replacingOccurrences(of: "\r\n", with: " ")
                    .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).joined(separator: " ")
                if !text.isEmpty { out.append(text) }
            }
        }
        return out
    }
}
