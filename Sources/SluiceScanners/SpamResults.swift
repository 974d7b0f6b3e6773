// What SpamAssassin said about a message: its verdict (spamd's threshold),
// score, threshold and the rules that hit; or that it could not say (with
// `on_error: accept`). Rules read it as `spam: ...`; `spam_headers: true`
// writes it into the message.

import Foundation
import SluiceCore

public struct SpamResults: Verdict, Hashable {
    public static let name = "spam"
    public var isSpam = false
    public var score = 0.0
    public var threshold = 0.0
    public var symbols: [String] = []
    /// Why spamd could not answer (the message went on under `on_error: accept`).
    public var unavailable: String?

    public init() {}

    public var forQueue: SpamResults { self }

    public var summary: String {
        unavailable != nil ? "spam=unavailable" : "spam=\(isSpam ? "yes" : "no") score=\(Self.format(score))/\(Self.format(threshold))"
    }

    static func format(_ x: Double) -> String { String(format: "%.1f", x) }

    /// `X-Spam-Status` and `X-Spam-Score`, as SpamAssassin itself writes them.
    public var headers: [String] {
        guard unavailable == nil else { return ["X-Spam-Status: unknown (the scanner did not answer)"] }
        return [
            "X-Spam-Status: \(isSpam ? "Yes" : "No"), score=\(Self.format(score)) required=\(Self.format(threshold)) tests=\(symbols.joined(separator: ","))",
            "X-Spam-Score: \(Self.format(score))",
        ]
    }
}
