// Turning a delivered message into an ArchiveEntry: header fields decoded,
// and its IndexText (the text of its parts and its attachment names) as the
// inspect stage's walk collected it, or read here when it was not.

import Foundation
import SluiceCore
import SluiceDLP

public enum ArchiveEntryBuilder {
    /// `text`: what the inspect stage's walk collected, when it was kept; nil: read here (a walk of its own).
    public static func entry(
        archive: String, envelope: Envelope, receivedAt: Date, recipients: [MailAddress], raw: [UInt8], verdicts: MessageVerdicts = MessageVerdicts(),
        text: IndexText? = nil
    ) -> ArchiveEntry {
        let headerEnd = raw.firstRange(of: [13, 10, 13, 10]).map { $0.upperBound } ?? raw.count
        let headers = MessageHeaders(parsing: raw[..<headerEnd])
        func decoded(_ name: String) -> String { headers.first(name).map { HeaderDecoding.decodeEncodedWords($0) } ?? "" }
        let content = text ?? IndexText.read(raw)
        let dlp = verdicts.inspection?.summary ?? ""
        let auth = verdicts.authentication?.summary ?? ""
        var entry = ArchiveEntry(
            archive: archive, queueID: envelope.queueID.rawValue, receivedAt: receivedAt, sender: envelope.sender?.description ?? "",
            recipients: recipients.map(\.description), from: decoded("From"), to: decoded("To"), cc: decoded("Cc"), subject: decoded("Subject"),
            messageID: headers.first("Message-ID")?.trimmingCharacters(in: .whitespaces) ?? "",
            attachments: content.attachments, dlpSummary: dlp, authSummary: auth,
            bodyText: String(decoding: content.text, as: UTF8.self), raw: raw)
        entry.submission.clientIP = envelope.client.address?.description ?? ""
        entry.submission.listener = envelope.client.listener
        entry.submission.user = envelope.client.authenticatedUser ?? ""
        entry.submission.tls = envelope.client.tlsVersion ?? ""
        entry.submission.dlpProfiles = (verdicts.inspection?.profiles ?? [:]).filter(\.value.matched).keys.sorted()
        entry.submission.dmarc = verdicts.authentication?.dmarc?.result.rawValue ?? ""
        return entry
    }
}
