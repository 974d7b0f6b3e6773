// Turning a delivered message into an ArchiveEntry: header fields decoded,
// attachment names and the text of the text parts from the DLP module's MIME
// walker (bounded: the index gets at most 1 MB of text per message).

import Foundation
import SluiceCore
import SluiceDLP

public enum ArchiveEntryBuilder {
    struct TextCollector: MIMETextSink {
        var text: [UInt8] = []
        static let limit = 1 << 20

        mutating func text(_ bytes: [UInt8], part: MIMEPart) {
            guard part.label != "headers", text.count < Self.limit else { return }
            text += bytes.prefix(Self.limit - text.count)
            text.append(10)
        }

        mutating func endOfPart(_ part: MIMEPart) {}
    }

    public static func entry(
        archive: String, envelope: Envelope, receivedAt: Date, recipients: [MailAddress], raw: [UInt8], verdicts: MessageVerdicts = MessageVerdicts()
    ) -> ArchiveEntry {
        let headerEnd = raw.firstRange(of: [13, 10, 13, 10]).map { $0.upperBound } ?? raw.count
        let headers = MessageHeaders(parsing: raw[..<headerEnd])
        func decoded(_ name: String) -> String { headers.first(name).map { HeaderDecoding.decodeEncodedWords($0) } ?? "" }
        // The index takes the first 256 KiB of text (body first, then attachments) and no PDF text: FTS5
        // indexing and Poppler cost more per message than the rest of the pipeline together
        // (bench/dlp-docs.sh); DLP still reads all of it.
        var limits = MIMELimits()
        limits.maxBytes = 256 << 10
        limits.content.readPDF = false
        var walker = MIMEWalker(sink: TextCollector(), limits: limits)
        walker.feed(raw)
        walker.finish()
        let dlp = verdicts.inspection?.summary ?? ""
        let auth = verdicts.authentication?.summary ?? ""
        var entry = ArchiveEntry(
            archive: archive, queueID: envelope.queueID.rawValue, receivedAt: receivedAt, sender: envelope.sender?.description ?? "",
            recipients: recipients.map(\.description), from: decoded("From"), to: decoded("To"), cc: decoded("Cc"), subject: decoded("Subject"),
            messageID: headers.first("Message-ID")?.trimmingCharacters(in: .whitespaces) ?? "",
            attachments: walker.parts.filter { !$0.derived }.compactMap(\.filename), dlpSummary: dlp, authSummary: auth,
            bodyText: String(decoding: walker.sink.text, as: UTF8.self), raw: raw)
        entry.submission.clientIP = envelope.client.address?.description ?? ""
        entry.submission.listener = envelope.client.listener
        entry.submission.user = envelope.client.authenticatedUser ?? ""
        entry.submission.tls = envelope.client.tlsVersion ?? ""
        entry.submission.dlpProfiles = (verdicts.inspection?.profiles ?? [:]).filter(\.value.matched).keys.sorted()
        entry.submission.dmarc = verdicts.authentication?.dmarc?.result.rawValue ?? ""
        return entry
    }
}
