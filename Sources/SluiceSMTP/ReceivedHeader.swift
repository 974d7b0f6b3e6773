// ReceivedHeader: the trace header Sluice prepends (RFC 5321 §4.4, RFC 8601
// style TLS comment), with the TLS version and cipher and the authenticated user.

import Foundation
import SluiceCore

public enum ReceivedHeader {
    public static func make(envelope: Envelope, hostname: String, date: Date) -> String {
        let c = envelope.client
        let heloPart = c.helo.map { "from \($0) " } ?? "from unknown "
        let addr = c.address.map { $0.isIPv4 ? "[\($0)]" : "[IPv6:\($0)]" } ?? "[unknown]"
        let rdns = c.reverseName ?? "unknown"
        var with = envelope.smtpUTF8 ? "UTF8SMTP" : "ESMTP"
        if c.usesTLS { with += "S" }
        if c.authenticatedUser != nil { with += "A" }
        var lines = ["Received: \(heloPart)(\(rdns) \(addr))"]
        if let v = c.tlsVersion {
            // NIOSSL does not expose the negotiated cipher suite yet; say only what is known.
            lines.append("\t(using \(v)" + (c.tlsCipher.map { " with cipher \($0)" } ?? "") + ")")
        }
        if let user = c.authenticatedUser {
            lines.append("\t(Authenticated sender: \(sanitize(user)))")
        }
        var by = "\tby \(hostname) (Sluice) with \(with) id \(envelope.queueID)"
        if envelope.recipients.count == 1, let only = envelope.recipients.first {
            lines.append(by)
            by = "\tfor <\(only.address)>"
        }
        lines.append(by + "; " + rfc5322Date(date))
        return lines.joined(separator: "\r\n")
    }

    static func sanitize(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 32 && $0 != "(" && $0 != ")" && $0 != "\\" }.map(Character.init))
    }

    public static func rfc5322Date(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
