// JSONLogHandler: one JSON object per line on stderr (time, level, message,
// then metadata as fields), so every event can be traced by queue_id.

import Foundation
import Logging
import SluiceCore

public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let text: Bool

    public init(label: String, text: Bool = false) {
        self.label = label
        self.text = text
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let extra = event.metadata
        var fields = metadata
        if let extra { fields.merge(extra) { _, new in new } }
        let time = Self.timestamp(Date())
        var out: String
        if text {
            out = LogLineFormat.text(
                time: time, level: "\(level)", message: "\(message)", fields: fields.sorted(by: { $0.key < $1.key }).map { ($0.key, "\($0.value)") })
        } else {
            out = "{\"time\":\(Self.quote(time)),\"level\":\(Self.quote("\(level)")),\"msg\":\(Self.quote("\(message)"))"
            for (k, v) in fields.sorted(by: { $0.key < $1.key }) { out += ",\(Self.quote(k)):\(Self.quote("\(v)"))" }
            out += "}"
        }
        out += "\n"
        // One write(2) per line, straight from the string's bytes (a line is never split between writers).
        out.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(2, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// "2026-11-27T09:41:07.123Z" (UTC), without a formatter object on the hot path.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var t = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        func pad(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2)).\(pad(millis, 3))Z"
    }

    static func quote(_ s: String) -> String { LogLineFormat.quote(s) }
}
