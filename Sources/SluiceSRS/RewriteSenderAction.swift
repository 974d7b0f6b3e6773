// `rewrite_sender: srs`: the recipient's routes leave with the envelope
// sender rewritten by SRS (the modifier below), so mail forwarded for a
// foreign sender passes SPF at the next hop. Needs `srs:` configured (a load
// error with file:line:column otherwise).

import SluiceConfig
import SluiceCore
import SluiceRules

public struct RewriteSenderAction: RuleAction {
    public static let mark = "rewrite_sender"

    public func apply(to outcome: inout RecipientOutcome, _ match: RuleMatch, _ context: RuleContext) -> RuleFlow {
        outcome.mark(Self.mark, "srs")
        return .next
    }

    public var logText: String { "rewrite_sender srs" }

    public struct Kind: RuleActionKind {
        public let key = "rewrite_sender"
        let configured: Bool

        public func parse(_ value: ConfigNode, _ loader: inout RuleLoader) throws -> any RuleAction {
            _ = try value.oneOf(["srs"])
            guard configured else {
                throw value.error("rewrite_sender: srs needs srs: { domain, secret_file } in sluice.yaml")
            }
            return RewriteSenderAction()
        }
    }
}

/// The modifier: routes marked by `rewrite_sender: srs` get the SRS address as envelope sender (the null sender stays).
struct SRSRewriteModifier: MessageModifier {
    let srs: @Sendable () -> SRSAddress?
    let clock: any SluiceClock

    func modify(_ message: inout OutgoingMessage) async throws {
        guard message.marks[RewriteSenderAction.mark]?.contains("srs") ?? false, let sender = message.envelope.sender else { return }
        guard let srs = srs() else {
            throw SMTPError(451, .init(4, 3, 5), "Sender rewriting is not configured", reason: "rewrite_sender: srs but no srs: in force")
        }
        message.envelope.sender = srs.forward(sender, at: clock.now())
    }
}
