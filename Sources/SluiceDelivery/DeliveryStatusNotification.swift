// DeliveryStatusNotification: the RFC 3464 bounce for recipients that failed
// for good: multipart/report with a human part, a message/delivery-status part
// (Reporting-MTA, Original-Envelope-Id, per recipient Final-/Original-Recipient,
// Action, Status, Diagnostic-Code) and the original message or its headers as
// the sender asked (RET). Pure: it builds bytes, the queue sends them.

import Foundation
import SluiceCore
import SluiceSMTP

public enum DeliveryStatusNotification {
    public struct FailedRecipient: Sendable {
        public var recipient: Recipient
        public var error: SMTPError
        /// The remote host whose reply `error` is; nil when the failure is Sluice's own (no host answered, a rule).
        public var remote: String?
        /// The remote's diagnostic type when it is not smtp ("X-HTTP": the reply's text is the HTTP status line).
        public var diagnosticType: String?

        public init(recipient: Recipient, error: SMTPError, remote: String? = nil, diagnosticType: String? = nil) {
            self.recipient = recipient
            self.error = error
            self.remote = remote
            self.diagnosticType = diagnosticType
        }
    }

    /// The reply as the remote wrote it: "550 5.1.1 <bob@example.org>: user unknown".
    static func diagnostic(_ reply: SMTPReply) -> String {
        let status = reply.status.map { "\($0) " } ?? ""
        return "\(reply.code) \(status)\(reply.lines.joined(separator: " "))".filter { $0 != "\r" && $0 != "\n" }
    }

    /// Recipients a DSN should report: NOTIFY absent (default: failures) or containing FAILURE.
    public static func wanted(_ r: Recipient) -> Bool {
        guard let n = r.notify else { return true }
        return n.contains(.failure) && !n.contains(.never)
    }

    /// The whole DSN message; `original` is the queued message (its bytes, or its header section for RET=HDRS).
    public static func build(
        envelope: Envelope, failed: [FailedRecipient], reportingMTA: String, original: [UInt8], date: Date, boundaryID: String
    ) -> [UInt8] {
        let boundary = "=_sluice_dsn_\(boundaryID)"
        let headersOnly = envelope.dsnReturn == .headers
        var out = ""
        out += "From: Mail Delivery System <MAILER-DAEMON@\(reportingMTA)>\r\n"
        out += "To: \(envelope.sender.map { "<\($0)>" } ?? "<>")\r\n"
        out += "Subject: Undelivered Mail Returned to Sender\r\n"
        out += "Date: \(ReceivedHeader.rfc5322Date(date))\r\n"
        out += "Message-ID: <dsn.\(envelope.queueID).\(boundaryID)@\(reportingMTA)>\r\n"
        out += "Auto-Submitted: auto-replied\r\n"
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"\(boundary)\"\r\n"
        out += "\r\n"
        out += "This is a MIME-encapsulated message.\r\n\r\n"
        out += "--\(boundary)\r\n"
        out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        out += "This is the mail system at \(reportingMTA).\r\n\r\n"
        out += "Your message (queue id \(envelope.queueID)) could not be delivered to the following recipient(s):\r\n\r\n"
        for f in failed {
            out += "  <\(f.recipient.address)>: \(f.error.reply.description)\r\n"
        }
        out += "\r\n--\(boundary)\r\n"
        out += "Content-Type: message/delivery-status\r\n\r\n"
        out += "Reporting-MTA: dns; \(reportingMTA)\r\n"
        if let envid = envelope.dsnEnvelopeID { out += "Original-Envelope-Id: \(XText.encode(envid))\r\n" }
        out += "Arrival-Date: \(ReceivedHeader.rfc5322Date(envelope.receivedAt))\r\n"
        for f in failed {
            out += "\r\n"
            if let orcpt = f.recipient.originalRecipient {
                let parts = orcpt.split(separator: ";", maxSplits: 1)
                if parts.count == 2 { out += "Original-Recipient: \(parts[0]); \(XText.encode(String(parts[1])))\r\n" }
            }
            let type = f.recipient.address.isASCII ? "rfc822" : "utf-8"
            out += "Final-Recipient: \(type); \(f.recipient.address)\r\n"
            out += "Action: failed\r\n"
            let status = f.error.reply.status ?? EnhancedStatus(f.error.isPermanent ? 5 : 4, 0, 0)
            // A temporary failure that ran out of time is reported as permanent (RFC 3463 X.4.7); one for security
            // (X.7.x: TLS required and not to be had, a certificate not verified) keeps its reason, made permanent.
            let final = status.klass == 5 ? status : status.subject == 7 ? EnhancedStatus(5, 7, status.detail) : EnhancedStatus(5, 4, 7)
            out += "Status: \(final)\r\n"
            if let remote = f.remote { out += "Remote-MTA: dns; \(remote)\r\n" }
            if let type = f.diagnosticType, f.remote != nil {
                out += "Diagnostic-Code: \(type); \(f.error.reply.lines.joined(separator: " "))\r\n"
            } else {
                out += "Diagnostic-Code: \(f.remote == nil ? "X-Sluice" : "smtp"); \(diagnostic(f.error.reply))\r\n"
            }
        }
        out += "\r\n--\(boundary)\r\n"
        out += headersOnly ? "Content-Type: text/rfc822-headers\r\n\r\n" : "Content-Type: message/rfc822\r\n\r\n"
        var bytes = Array(out.utf8)
        bytes += headersOnly ? headerSection(original) : original
        if bytes.last != 10 { bytes += Array("\r\n".utf8) }
        bytes += Array("\r\n--\(boundary)--\r\n".utf8)
        return bytes
    }

    public static func headerSection(_ message: [UInt8]) -> [UInt8] {
        var i = 0
        while i + 3 < message.count {
            if message[i] == 13, message[i + 1] == 10, message[i + 2] == 13, message[i + 3] == 10 { return Array(message[..<(i + 2)]) }
            i += 1
        }
        return message
    }
}
