// Helpers for the client state machine tests: replies from text, and the text of a send action.

import SluiceCore

@testable import SluiceSMTP

/// A reply parsed from lines like "250-mx.test\n250 SIZE 100".
func reply(_ text: String) -> SMTPReply {
    var p = SMTPReplyParser()
    for line in text.split(separator: "\n") {
        if let r = try! p.feed(String(line)) { return r }
    }
    fatalError("incomplete reply \(text)")
}

/// What a send action sends (or the action itself, to show in a failure).
func sent(_ a: SMTPClientSession.Action) -> String {
    if case .send(let s) = a { return s }
    return "\(a)"
}
