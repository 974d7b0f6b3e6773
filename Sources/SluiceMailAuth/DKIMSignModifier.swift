// DKIMSignModifier: the last transformation before delivery. It signs the
// message exactly as it will leave (prepended headers, rewritten header
// section, rest of the queue file) for the domains the signing policy
// authorised at end of DATA (R-CORE-2), with every active key of each domain
// or of its closest parent domain that has keys: two keys give two
// signatures (RSA and Ed25519 side by side, or two selectors during a
// rotation). A message authorised for no domain leaves unsigned.

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue

/// The active signers by domain; replaced whole on reload.
public final class DKIMKeyring: Sendable {
    let byDomain: [String: [DKIMSigner]]

    public init(_ signers: [DKIMSigner]) {
        byDomain = Dictionary(grouping: signers) { $0.key.domain.lowercased() }
    }

    public var isEmpty: Bool { byDomain.isEmpty }

    /// Whether mail can be signed for this domain (its own keys or a parent domain's).
    public func hasKeys(for domain: String) -> Bool { !signers(for: domain).isEmpty }

    /// The signers for mail From: this domain: its own keys, else those of the closest parent domain.
    public func signers(for domain: String) -> [DKIMSigner] {
        var labels = domain.lowercased().split(separator: ".").map(String.init)
        while !labels.isEmpty {
            if let s = byDomain[labels.joined(separator: ".")] { return s }
            labels.removeFirst()
        }
        return []
    }
}

public struct DKIMSignModifier: MessageModifier {
    /// The keys in force (the daemon's current runtime: a reload's keys sign from the next message on).
    let keyring: @Sendable () -> DKIMKeyring
    let io: NIOThreadPool
    /// The signatures' time (t=).
    let clock: any SluiceClock
    let logger: Logger

    public init(keyring: @escaping @Sendable () -> DKIMKeyring, io: NIOThreadPool, clock: any SluiceClock = WallClock(), logger: Logger) {
        self.keyring = keyring
        self.io = io
        self.clock = clock
        self.logger = logger
    }

    public func modify(_ message: inout OutgoingMessage) async throws {
        // The signing policy decided at end of DATA which domains this copy is signed for (R-CORE-2);
        // a message nobody authorised leaves unsigned, whatever its From: says.
        guard !message.signingDomains.isEmpty else { return }
        let ring = keyring()
        var chosen: [DKIMSigner] = []
        for domain in message.signingDomains {
            for s in ring.signers(for: domain) where !chosen.contains(where: { $0 === s }) { chosen.append(s) }
        }
        let signers = chosen
        guard !signers.isEmpty else {
            logger.notice(
                "not DKIM-signed: no active key for the authorised domain",
                metadata: ["queue_id": "\(message.envelope.queueID)", "domain": "\(message.signingDomains.joined(separator: ","))"])
            return
        }
        let header = try await message.headerSection(io: io)
        let (path, length, bodyOffset) = (message.bodyPath, message.bodyLength, message.bodyOffset)
        let full = Array(message.prependedHeaders.map { $0 + "\r\n" }.joined().utf8) + header
        let id = message.envelope.queueID.description
        let offset = bodyOffset
        let time = Int(clock.now().timeIntervalSince1970)
        let signatures = try await io.runIfActive { () throws -> [String] in
            try signers.map { signer in
                try signer.sign(id: id, header: full, time: time) { feed in
                    try QueueFileReader.chunks(path, offset: offset, length: length - offset, feed)
                }
            }
        }
        // Signatures go on top, in key order; each covers the message without the others.
        message.prependedHeaders.insert(contentsOf: signatures, at: 0)
        logger.debug(
            "DKIM signed", metadata: ["queue_id": "\(id)", "keys": "\(signers.map { "\($0.key.selector)._domainkey.\($0.key.domain)" })"])
    }
}
