// SubjectTagModifier: the `tag_subject` transformation as a modifier, so that
// every route (store, relay, send) and the DKIM signature after it see the
// tagged Subject.

import NIOPosix
import SluiceCore
import SluiceQueue

public struct SubjectTagModifier: MessageModifier {
    let io: NIOThreadPool

    public init(io: NIOThreadPool) { self.io = io }

    public func modify(_ message: inout OutgoingMessage) async throws {
        guard !message.subjectTags.isEmpty else { return }
        message.rewrittenHeader = SubjectTagger.tag(try await message.headerSection(io: io), with: message.subjectTags)
    }
}
