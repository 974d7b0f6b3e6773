// SMTPServerHandler+Log: the lifecycle events and metrics of refusals, with
// the stage of the dialogue they happened in, and TLS version names.

import Logging
import NIOSSL
import SluiceCore
import SluiceSMTP

extension SMTPServerHandler {
    /// One `reject` event and one metrics count per refusal, with the stage it happened in.
    func logRefusal(
        _ reply: SMTPReply, stage: SMTPServerSession.Stage, reason: String? = nil, queueID: QueueID? = nil, recipient: MailAddress? = nil
    ) {
        var fields: [LogKey: String] = [.reply: "\(reply)"]
        if let id = queueID ?? session.currentQueueID { fields[.queueID] = id.rawValue }
        if let reason, reason != reply.lines.joined(separator: " ") { fields[.reason] = reason }
        if let recipient { fields[.recipient] = recipient.description }
        logger.event(.reject, level: .notice, "refused", fields)
        SluiceMetrics.rejected(listener: shared.name, stage: stage.rawValue, status: reply.status?.description ?? "\(reply.code)")
    }

    static func describe(_ v: TLSVersion) -> String { TLSCipherSuite.protocolName("\(v)") }
}
