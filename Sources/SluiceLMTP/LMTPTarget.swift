// LMTPTarget: the `lmtp` route. Hands the message to a mail store over LMTP
// (RFC 2033) with the queue's SMTP client: the body streamed from the queue
// file, connections kept for the next message, and each recipient's own
// reply after the data — one delivered, one over quota (452, retried), one
// unknown (550, a DSN) in the same transaction are three outcomes. A server
// that cannot be reached defers every recipient; one that drops the
// connection between replies leaves those without a reply to be retried.

import Foundation
import SluiceCore
import SluiceDelivery
import SluiceSMTP

public final class LMTPTarget: DeliveryTarget {
    /// The servers in force: the daemon's current runtime (one added by a reload is used by the next delivery).
    private let servers: @Sendable () -> [String: LMTPServer]
    let deliverer: SMTPDeliverer
    /// Connections at once per server, by name and limit.
    private let limiters = LimiterTable()

    public init(servers: @escaping @Sendable () -> [String: LMTPServer], deliverer: SMTPDeliverer) {
        self.servers = servers
        self.deliverer = deliverer
    }

    func limiter(_ server: LMTPServer) -> KeyedLimiter { limiters.limiter(server.name, limit: server.maxConnections) }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        guard route.kind == "lmtp", let server = servers()[route.instance] else {
            throw SMTPError(451, .init(4, 3, 5), "Unknown LMTP server", reason: "no lmtp server for \(route)")
        }
        // Each recipient under the mailbox name the server knows; results come back to the recipient.
        var byMailbox: [MailAddress: [MailAddress]] = [:]
        var mailboxes: [MailAddress] = []
        var unusable: [MailAddress: RecipientResult] = [:]
        for r in recipients {
            guard let box = server.mailbox(for: r) else {
                unusable[r] = RecipientResult(SMTPError(553, .init(5, 1, 3), "Mailbox name not an address", reason: "lmtp \(server.name): mailbox for \(r)"))
                continue
            }
            if byMailbox[box] == nil { mailboxes.append(box) }
            byMailbox[box, default: []].append(r)
        }
        guard !mailboxes.isEmpty else { return DeliveryReport(results: unusable) }
        let to = mailboxes
        let outcome = await limiter(server).withSlot(server.name) {
            await self.deliverer.attempt(message, to: to, host: server.endpoint, tls: server.tls, dialect: .lmtp)
        }
        let report = outcome.results(for: mailboxes, remote: outcome.remote(server.endpoint), context: "lmtp \(server.name)")
        var results = unusable
        for (box, result) in report.results { for r in byMailbox[box] ?? [] { results[r] = result } }
        return DeliveryReport(results: results, delivered: report.delivered, detail: report.detail)
    }
}
