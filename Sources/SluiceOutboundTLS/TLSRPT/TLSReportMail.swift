// TLSReportMail: a report as mail (RFC 8460 §5.3): multipart/report with
// report-type "tlsrpt", a short text part, and the JSON report as an
// application/tlsrpt+json attachment named
// SUBMITTER!POLICY-DOMAIN!BEGIN!END.json; the TLS-Report-Domain and
// TLS-Report-Submitter headers, and the Subject the RFC gives. Pure.

import Foundation
import SluiceCore
import SluiceSMTP

enum TLSReportMail {
    static func build(report: TLSReport, json: Data, domain: String, submitter: String, to: [MailAddress], date: Date, messageID: String) -> [UInt8] {
        let boundary = "tlsrpt-\(messageID)"
        let begin = Int(Self.seconds(report.dateRange.start))
        let end = Int(Self.seconds(report.dateRange.end))
        let filename = "\(submitter)!\(domain)!\(begin)!\(end).json"
        let body = json.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        var out = ""
        out += "From: TLS reporting <postmaster@\(submitter)>\r\n"
        out += "To: \(to.map { "<\($0)>" }.joined(separator: ", "))\r\n"
        out += "Subject: Report Domain: \(domain) Submitter: \(submitter) Report-ID: <\(report.reportID)>\r\n"
        out += "Date: \(ReceivedHeader.rfc5322Date(date))\r\n"
        out += "Message-ID: <\(messageID)@\(submitter)>\r\n"
        out += "TLS-Report-Domain: \(domain)\r\n"
        out += "TLS-Report-Submitter: \(submitter)\r\n"
        out += "MIME-Version: 1.0\r\n"
        out += "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n\tboundary=\"\(boundary)\"\r\n"
        out += "\r\n"
        out += "--\(boundary)\r\n"
        out += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        out += "The TLS report of \(submitter) for \(domain), \(report.dateRange.start) to \(report.dateRange.end) (RFC 8460).\r\n\r\n"
        out += "--\(boundary)\r\n"
        out += "Content-Type: application/tlsrpt+json\r\n"
        out += "Content-Transfer-Encoding: base64\r\n"
        out += "Content-Disposition: attachment; filename=\"\(filename)\"\r\n\r\n"
        out += body + "\r\n"
        out += "--\(boundary)--\r\n"
        return Array(out.utf8)
    }

    /// Seconds since 1970 of "2026-12-07T00:00:00Z" (0 if it does not read).
    static func seconds(_ iso: String) -> Double {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: iso)?.timeIntervalSince1970 ?? 0
    }
}
