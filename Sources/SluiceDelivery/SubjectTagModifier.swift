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
        let (path, length) = (message.bodyPath, message.bodyLength)
        let header = message.rewrittenHeader.isEmpty
            ? try await io.runIfActive { try QueueFileReader.headerSection(path, length: length) } : message.rewrittenHeader
        if message.rewrittenHeader.isEmpty { message.bodyOffset = header.count }
        message.rewrittenHeader = SubjectTagger.tag(header, with: message.subjectTags)
    }
}
