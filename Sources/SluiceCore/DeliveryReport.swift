// DeliveryReport: what one delivery attempt did, per recipient: delivered,
// deferred (optionally "not before T": no attempt counted, no back-off grown,
// though it counts towards max_delivery_time) or failed, each with the
// remote's full reply (code, enhanced status, text), the remote host, and
// what the transport did (TLS version, cipher, whether the peer's
// certificate was verified). The queue keeps it with the route, `sluice queue
// show` prints it, the lifecycle log carries it, and a DSN reports it
// (Diagnostic-Code, Remote-MTA, RFC 3464).

import Foundation

/// What the transport to the remote did.
public struct TransportFacts: Sendable, Codable, Hashable, CustomStringConvertible {
    /// "TLSv1.3", nil without TLS.
    public var tlsVersion: String?
    /// OpenSSL's name of the cipher suite ("ECDHE-RSA-AES256-GCM-SHA384", or the IANA name for TLS 1.3).
    public var tlsCipher: String?
    /// How the peer was verified: nil when not at all; else what vouched for it ("system roots", "DANE-EE").
    public var verifiedBy: String?
    /// The outbound TLS policy the attempt followed ("mta-sts enforce", "tls_policy verify", "default may"); nil where
    /// none is decided per destination (upstreams, LMTP). Absent from queue files written before it.
    public var policy: String?

    public init(tlsVersion: String? = nil, tlsCipher: String? = nil, verifiedBy: String? = nil, policy: String? = nil) {
        self.tlsVersion = tlsVersion
        self.tlsCipher = tlsCipher
        self.verifiedBy = verifiedBy
        self.policy = policy
    }

    /// "TLSv1.3 TLS_AES_256_GCM_SHA384, verified (system roots), policy mta-sts enforce", "no TLS".
    public var description: String {
        let policy = self.policy.map { ", policy \($0)" } ?? ""
        guard let v = tlsVersion else { return "no TLS" + policy }
        return v + (tlsCipher.map { " \($0)" } ?? "") + (verifiedBy.map { ", verified (\($0))" } ?? ", not verified") + policy
    }
}

/// The remote end of an attempt.
public struct RemoteEnd: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The host's name as delivery knew it (the MX name, the upstream host), for Remote-MTA.
    public var name: String
    /// The address connected to, when it differs from the name.
    public var address: String?
    public var port: Int?
    public var transport: TransportFacts
    /// How a DSN names the remote's replies when they are not SMTP's (RFC 3464 diagnostic-type: "X-HTTP" for a
    /// webhook); nil: smtp.
    public var diagnosticType: String?

    public init(
        name: String, address: String? = nil, port: Int? = nil, transport: TransportFacts = TransportFacts(), diagnosticType: String? = nil
    ) {
        self.name = name
        self.address = address
        self.port = port
        self.transport = transport
        self.diagnosticType = diagnosticType
    }

    /// "mx.example.org[192.0.2.1]:25".
    public var description: String {
        name + (address.map { $0 == name ? "" : "[\($0)]" } ?? "") + (port.map { ":\($0)" } ?? "")
    }
}

/// What happened to one recipient in one attempt.
public struct RecipientResult: Sendable {
    public enum Status: Sendable, Equatable {
        case delivered
        /// Try again later; `notBefore`: not before then, without counting an attempt or growing the back-off.
        case deferred(notBefore: Date?)
        case failed
    }

    public var status: Status
    /// The reply: the final one when delivered, the refusal otherwise (the remote's, or Sluice's own when
    /// `fromRemote` is false: a connection that failed, a DNS lookup).
    public var reply: SMTPReply?
    /// The host tried (set also when it did not answer).
    public var remote: RemoteEnd?
    /// Whether `reply` is what the remote said (a DSN then names it as Remote-MTA, with an smtp diagnostic).
    public var fromRemote: Bool
    /// What happened, for the log only (never in a DSN).
    public var reason: String?

    public init(status: Status, reply: SMTPReply? = nil, remote: RemoteEnd? = nil, fromRemote: Bool = false, reason: String? = nil) {
        self.status = status
        self.reply = reply
        self.remote = remote
        self.fromRemote = fromRemote
        self.reason = reason
    }

    /// A refusal as a result: 5xx failed, 4xx deferred.
    public init(_ error: SMTPError, remote: RemoteEnd? = nil, fromRemote: Bool = false) {
        self.init(
            status: error.isPermanent ? .failed : .deferred(notBefore: nil), reply: error.reply, remote: remote, fromRemote: fromRemote,
            reason: error.reason)
    }

    /// The same result as an error (for what failed or was deferred).
    public var error: SMTPError {
        SMTPError(reply ?? SMTPReply(451, .init(4, 3, 0), "Delivery deferred"), reason: reason)
    }
}

public struct DeliveryReport: Sendable {
    /// By recipient; a recipient of the route not listed here was delivered (with `delivered`'s facts).
    public var results: [MailAddress: RecipientResult]
    /// What the delivered recipients got, when the target talked to a remote.
    public var delivered: RecipientResult
    /// Where it went and what the far end said, for the log.
    public var detail: String?

    public init(results: [MailAddress: RecipientResult] = [:], delivered: RecipientResult = RecipientResult(status: .delivered), detail: String? = nil) {
        self.results = results
        self.delivered = delivered
        self.detail = detail
    }

    /// Recipients refused with these errors (5xx failed, 4xx deferred); the others delivered.
    public init(refused: [MailAddress: SMTPError], detail: String? = nil) {
        self.init(results: refused.mapValues { RecipientResult($0) }, detail: detail)
    }

    /// The result of one recipient of the route.
    public func result(for recipient: MailAddress) -> RecipientResult { results[recipient] ?? delivered }
}
