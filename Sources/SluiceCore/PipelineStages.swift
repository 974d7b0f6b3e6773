// The pipeline contracts. A message goes
//   accept (SessionCheck) -> verify/inspect/decide (SluicePipeline's stages)
//   -> queue -> transform (MessageModifier) -> deliver (DeliveryTarget).
// Each later feature (a scanner, a delivery target, a transform) is one more
// conformance, not an edit of the SMTP server or the daemon's wiring.

import Foundation
import Logging

/// accept: decisions taken during the SMTP dialogue. Throw an SMTPError to refuse. A check may also record what it
/// found as a typed fact (a DNS-list hit, a client certificate's fields) in `facts`: those of the connection stay for
/// every message of the session, those of MAIL and RCPT for the message of that transaction, and the message's
/// verdicts start with them, so rules test them like any stage's.
public protocol SessionCheck: Sendable {
    func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws
    func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws
    func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws
}

extension SessionCheck {
    public func checkConnection(_ client: ClientInfo, facts: inout MessageVerdicts) async throws {}
    public func checkSender(_ sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {}
    public func checkRecipient(_ recipient: MailAddress, sender: MailAddress?, client: ClientInfo, facts: inout MessageVerdicts) async throws {}
}

/// Whether a listener offers SMTP AUTH, and whether it insists on it; `mtls`: it insists on a client
/// certificate its `client_ca` verifies instead (R-SMTP-2), and offers no AUTH.
public enum AuthRequirement: String, Sendable, CaseIterable {
    case none, optional, required, mtls

    /// Whether SMTP AUTH is offered at all.
    public var offersAuth: Bool { self == .optional || self == .required }
}

/// accept: checks AUTH credentials. Returns the authenticated user name, or
/// throws the SMTPError to answer (535 5.7.8, 454 4.7.0 ...). Never logs the secret.
public protocol SMTPAuthenticator: Sendable {
    func authenticate(user: String, secret: String, client: ClientInfo) async throws -> String
}

/// A received message at end of DATA, before the reply: what the verify, inspect and decide stages
/// (SluicePipeline) see. The body stays on disk; `headers` is the parsed header section.
public struct ReceivedMessage: Sendable {
    public var envelope: Envelope
    public var headers: MessageHeaders
    /// The spooled message (Received header included), on disk.
    public var spoolPath: String
    public var size: Int
    /// What the stages found so far, typed.
    public var verdicts = MessageVerdicts()
    /// What the stages computed that a delivery may reuse (never queued; see MessageHandoff).
    public var derived = DerivedContent()

    public init(envelope: Envelope, headers: MessageHeaders, spoolPath: String, size: Int) {
        self.envelope = envelope
        self.headers = headers
        self.spoolPath = spoolPath
        self.size = size
    }
}

/// The message as one delivery sends it: the prepended header lines, then
/// (when a modifier rewrote it) the rewritten header section, then the queue
/// file from `bodyOffset` to `bodyLength`. Modifiers change the first two and
/// never touch the queue file.
public struct OutgoingMessage: Sendable {
    public var envelope: Envelope
    public var prependedHeaders: [String]
    /// Tags to put in front of the Subject ("[EXTERNAL]").
    public var subjectTags: [String] = []
    /// The file holding the queued message; only its first `bodyLength` bytes are the message.
    public var bodyPath: String
    public var bodyLength: Int
    /// The message's own header section as rewritten by a modifier (through the empty line), replacing
    /// the file's first `bodyOffset` bytes.
    public var rewrittenHeader: [UInt8] = []
    public var bodyOffset = 0
    /// The verify/inspect results stored with the queued message (for the archive's metadata).
    public var verdicts = MessageVerdicts()
    /// The domains the signing policy decided this copy is signed for; empty: unsigned.
    public var signingDomains: [String] = []
    /// What the route's rule actions ask of the modifiers, by name (Route.marks).
    public var marks: [String: [String]] = [:]
    /// Which copy this is when a message's routes differ (headers added, tags, signing): "" for the
    /// unchanged copy, else a short stable key. Targets that write files put it in the name, so two
    /// routes into one directory never overwrite each other, and a redelivery replaces its own file.
    public var variant = ""

    public init(envelope: Envelope, prependedHeaders: [String], bodyPath: String, bodyLength: Int) {
        self.envelope = envelope
        self.prependedHeaders = prependedHeaders
        self.bodyPath = bodyPath
        self.bodyLength = bodyLength
    }

    /// What is sent before the rest of the queue file: prepended lines and any rewritten header section.
    public var prefixBytes: [UInt8] {
        Array(prependedHeaders.map { $0 + "\r\n" }.joined().utf8) + rewrittenHeader
    }

    /// The bytes of the queue file still to send after the prefix.
    public var remainingLength: Int { bodyLength - bodyOffset }

    /// The size of the message as delivered.
    public var deliveredSize: Int { prefixBytes.count + remainingLength }
}

/// transform: envelope and header changes made after queueing, at delivery.
/// DKIM signing is the last modifier.
public protocol MessageModifier: Sendable {
    func modify(_ message: inout OutgoingMessage) async throws
}

/// deliver: a place messages go. It answers per recipient (DeliveryReport); throwing means every recipient of this
/// route failed with that error (unknown errors are temporary).
public protocol DeliveryTarget: Sendable {
    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport

    /// Where a route goes, as the queue manager counts attempts at once per destination (`delivery.destination_concurrency`)
    /// so that one slow destination cannot take every attempt: by default the target itself ("relay:smarthost",
    /// "archive:default"); a target that fans out (direct MX delivery) names what it fans out to.
    func destination(of route: RouteTarget, recipients: [MailAddress]) -> String
}

extension DeliveryTarget {
    public func destination(of route: RouteTarget, recipients: [MailAddress]) -> String { route.description }
}
