// mbox output (RFC 4155, "mboxrd" quoting): each message begins with a
// "From " separator line; body lines that start with ">*From " get one more
// ">", so that readers can restore them; line endings become LF.

import Foundation

public enum MBox {
    public static func append(_ message: [UInt8], sender: String, date: Date, to out: inout [UInt8]) {
        let stamp = asctime(date)
        out += Array("From \(sender.isEmpty ? "MAILER-DAEMON" : sender) \(stamp)\n".utf8)
        var lines = message.split(separator: 10, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        for var line in lines {
            if line.last == 13 { line = line.dropLast() }
            var i = line.startIndex
            while i < line.endIndex, line[i] == UInt8(ascii: ">") { i += 1 }
            if line[i...].starts(with: Array("From ".utf8)) { out.append(UInt8(ascii: ">")) }
            out += line
            out.append(10)
        }
        out.append(10)
    }

    /// "Fri Nov 27 10:00:00 2026", in UTC.
    static func asctime(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@ %@ %2d %02d:%02d:%02d %d", days[(c.weekday ?? 1) - 1], months[(c.month ?? 1) - 1], c.day ?? 1, c.hour ?? 0,
            c.minute ?? 0, c.second ?? 0, c.year ?? 1970)
    }
}
