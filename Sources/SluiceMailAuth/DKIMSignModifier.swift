// DKIMSignModifier: the last transformation before delivery. It signs the
// message exactly as it will leave (prepended headers, rewritten header
// section, rest of the queue file) with every active key of the From:
// domain, or of its closest parent domain that has keys: two keys give two
// signatures (RSA and Ed25519 side by side, or two selectors during a
// rotation). Mail from a domain without keys leaves unsigned.

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
    let keyring: NIOLockedValueBox<DKIMKeyring>
    let io: NIOThreadPool
    let logger: Logger

    public init(keyring: DKIMKeyring, io: NIOThreadPool, logger: Logger) {
        self.keyring = NIOLockedValueBox(keyring)
        self.io = io
        self.logger = logger
    }

    /// New keys from a reload, for messages signed from now on.
    public func replace(_ new: DKIMKeyring) { keyring.withLockedValue { $0 = new } }

    public func modify(_ message: inout OutgoingMessage) async throws {
        let ring = keyring.withLockedValue { $0 }
        guard !ring.isEmpty else { return }
        let header = try await message.headerSection(io: io)
        let (path, length, bodyOffset) = (message.bodyPath, message.bodyLength, message.bodyOffset)
        let fields = MessageHeaders(parsing: header)
        guard let from = fields.first("From").flatMap({ mailboxAddresses(inAddressList: $0).first }),
            let at = from.lastIndex(of: "@")
        else { return }
        let domain = String(from[from.index(after: at)...])
        let signers = ring.signers(for: domain)
        guard !signers.isEmpty else { return }
        let full = Array(message.prependedHeaders.map { $0 + "\r\n" }.joined().utf8) + header
        let id = message.envelope.queueID.description
        let offset = bodyOffset
        let signatures = try await io.runIfActive { () throws -> [String] in
            try signers.map { signer in
                try signer.sign(id: id, header: full) { feed in
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
