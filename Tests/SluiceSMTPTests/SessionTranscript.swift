// SessionTranscript: drives an SMTPServerSession without a socket, the way the
// NIO handler does, so tests read like transcripts:
//   t.send("RCPT TO:<x@y>"); t.expect("250 2.1.5")

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SessionTranscript {
    var session: SMTPServerSession
    var input = ByteBuffer()
    var replies: [SMTPReply] = []
    var spooled = ""
    var messages: [(Envelope, MessageHeaders, String)] = []
    var closed = false
    var startedTLS = false
    /// The certificate the client presents in the handshake (nil: none).
    var clientCertificate: ClientCertificate?
    var aborted = 0
    /// Decides RCPT checks; default accepts.
    var recipientCheck: (MailAddress) -> SMTPError? = { _ in nil }
    var senderCheck: (MailAddress?) -> SMTPError? = { _ in nil }
    var messageResult: (Envelope) -> Result<QueueID, SMTPError> = { .success($0.queueID) }
    /// Decides AUTH: the right secret for "app" is "s3cret".
    var credentials: (String, String) -> Result<String, SMTPError> = { user, secret in
        user == "app" && secret == "s3cret" ? .success(user) : .failure(SMTPError(535, .init(5, 7, 8), "Authentication credentials invalid"))
    }
    var authAttempts: [(String, String, String)] = []
    /// Every refusal with its stage and reason, as the handler logs and counts them.
    var refusals: [SMTPServerSession.Refusal] = []

    init(configure: (inout SMTPServerSession.Configuration) -> Void = { _ in }) {
        var config = SMTPServerSession.Configuration(
            hostname: "mx.test", maxMessageSize: 1000, maxRecipients: 3, tlsAvailable: true, requireTLS: false)
        configure(&config)
        session = SMTPServerSession(configuration: config, client: ClientInfo(address: IPAddress("192.0.2.1"), listener: "test"))
        execute(session.start())
    }

    func execute(_ action: SMTPServerSession.Action) {
        switch action {
        case .send(let r): replies.append(r)
        case .refuse(let r):
            replies.append(r.error.reply)
            refusals.append(r)
        case .sendAndClose(let r): replies.append(r); closed = true
        case .startTLS(let r):
            replies.append(r)
            startedTLS = true
            session.tlsEstablished(version: "TLSv1.3", cipher: nil, clientCertificate: clientCertificate)
        case .checkSender(let s):
            let e = senderCheck(s)
            execute(session.senderChecked(e.map { .failure($0) } ?? .success(())))
        case .checkRecipient(let r, _):
            let e = recipientCheck(r)
            execute(session.recipientChecked(e.map { .failure($0) } ?? .success(())))
        case .authenticate(let user, let secret, let mechanism):
            authAttempts.append((user, secret, mechanism))
            execute(session.authenticationFinished(credentials(user, secret)))
        case .beginMessage: spooled = ""
        case .messageData(let b): spooled += String(buffer: b)
        case .abortMessage: aborted += 1; spooled = ""
        case .endMessage(let env, let headers):
            messages.append((env, headers, spooled))
            execute(session.messageFinished(messageResult(env)))
        }
    }

    /// Sends raw bytes (add "\r\n" yourself) and runs the session until it waits.
    func raw(_ text: String) {
        input.writeString(text)
        pump()
    }

    func pump() {
        while let action = session.next(&input) { execute(action) }
    }

    func send(_ line: String) { raw(line + "\r\n") }

    /// Asserts the oldest unread reply starts with `prefix` ("250 2.1.5", "354").
    func expect(_ prefix: String, file: StaticString = #filePath, line: UInt = #line) {
        guard !replies.isEmpty else { return XCTFail("no reply, expected \(prefix)", file: file, line: line) }
        let r = replies.removeFirst()
        let text = r.wireFormat.split(separator: "\r\n").last.map(String.init) ?? ""
        let lastLine = text.replacingOccurrences(of: "\(r.code)-", with: "\(r.code) ")
        XCTAssertTrue(lastLine.hasPrefix(prefix), "got \(r), expected \(prefix)", file: file, line: line)
    }

    func expectNoReply(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(replies.isEmpty, "unexpected replies \(replies)", file: file, line: line)
    }
}
