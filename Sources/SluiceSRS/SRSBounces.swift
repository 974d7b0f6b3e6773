// Bounces to SRS addresses: at RCPT, an address of the SRS domain must be one
// of ours, unaltered and within max_age (else 550 5.1.1, logged); after DATA
// a stage before the decision gives the message its original recipient, so
// the rules route the bounce back to the sender it was forwarded for.

import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline

/// What the runtime holds of `srs:`: the key read from its file.
public struct SRSKey: Sendable {
    public let srs: SRSAddress
}

struct SRSRecipientCheck: SessionCheck {
    let runtime: RuntimeHolder
    let clock: any SluiceClock

    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {
        guard let srs = runtime.current.part(SRSKey.self)?.srs, recipient.normalizedDomain == srs.domain else { return }
        if case .failure(let why) = srs.reverse(recipient, at: clock.now()) {
            throw SMTPError(550, .init(5, 1, 1), "<\(recipient)>: Invalid SRS address", reason: "srs: \(why)")
        }
    }
}

struct SRSReversalStage: MessageStage {
    let name = "srs"
    let clock: any SluiceClock

    func run(_ message: inout ReceivedMessage, runtime: Runtime, logger: Logger) async throws {
        guard let srs = runtime.part(SRSKey.self)?.srs else { return }
        var changed: [String] = []
        for (i, r) in message.envelope.recipients.enumerated() where r.address.normalizedDomain == srs.domain {
            // Checked at RCPT; a runtime swapped since (a new key) may disagree, and then the address stays as it came.
            guard case .success(let original) = srs.reverse(r.address, at: clock.now()) else { continue }
            message.envelope.recipients[i].address = original
            changed.append("\(r.address) -> \(original)")
        }
        if !changed.isEmpty {
            logger.event(.verify, level: .info, "SRS address reversed", [.recipient: changed.joined(separator: ", ")])
        }
    }
}
