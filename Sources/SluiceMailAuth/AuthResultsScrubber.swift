// AuthResultsScrubber: removes Authentication-Results fields that claim this
// host's authserv-id from the message's own header section before delivery
// (RFC 8601 §5): only the header Sluice adds may speak for it. Runs first
// among the modifiers; the queue file itself is never changed.

import NIOPosix
import SluiceCore
import SluiceQueue

public struct AuthResultsScrubber: MessageModifier {
    let authservID: String
    let io: NIOThreadPool

    public init(authservID: String, io: NIOThreadPool) {
        self.authservID = authservID.lowercased()
        self.io = io
    }

    public func modify(_ message: inout OutgoingMessage) async throws {
        let fields = HeaderFields.split(try await message.headerSection(io: io))
        let kept = fields.filter { !claimsUs($0) }
        guard kept.count != fields.count else { return }
        message.rewrittenHeader = kept.flatMap { $0 + [13, 10] } + [13, 10]
    }

    /// "Authentication-Results: <authserv-id> [version];" with our id.
    func claimsUs(_ field: [UInt8]) -> Bool {
        let text = String(decoding: field, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":"),
            text[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "authentication-results"
        else { return false }
        let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let id = value.prefix { $0 != ";" && $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" }
        return id.lowercased() == authservID
    }
}
