// ReceivedHeader: the trace header Sluice prepends (RFC 5321 §4.4, RFC 8601
// style TLS comment), with the TLS version and cipher, and the authenticated
// user when the listener says so (ESMTPSA says that someone authenticated).

import Foundation
import SluiceCore

public enum ReceivedHeader {
    public static func make(envelope: Envelope, hostname: String, date: Date, showsUser: Bool = false) -> String {
        let c = envelope.client
        let heloPart = c.helo.map { "from \($0) " } ?? "from unknown "
        let addr = c.address.map { $0.isIPv4 ? "[\($0)]" : "[IPv6:\($0)]" } ?? "[unknown]"
        let rdns = c.reverseName ?? "unknown"
        var with = envelope.smtpUTF8 ? "UTF8SMTP" : "ESMTP"
        if c.usesTLS { with += "S" }
        if c.authenticatedUser != nil { with += "A" }
        var lines = ["Received: \(heloPart)(\(rdns) \(addr))"]
        if let v = c.tlsVersion {
            // As Postfix writes it: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))".
            let cipher = c.tlsCipher.map { name in
                " with cipher \(name)" + (TLSCipherSuite.bits(named: name).map { " (\($0)/\($0) bits)" } ?? "")
            }
            lines.append("\t(using \(v)" + (cipher ?? "") + ")")
        }
        if showsUser, let user = c.authenticatedUser {
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

    /// "Thu, 01 Jan 1970 00:00:00 +0000", without a DateFormatter on the hot path.
    public static func rfc5322Date(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
