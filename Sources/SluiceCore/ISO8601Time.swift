// ISO8601Time: "2026-12-05T02:43:08Z" (UTC, whole seconds), as Foundation's
// `.iso8601` format style writes it, from gmtime_r: listings print two per
// message, and the format style's cost showed at 100,000 rows.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum ISO8601Time {
    public static func utc(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
