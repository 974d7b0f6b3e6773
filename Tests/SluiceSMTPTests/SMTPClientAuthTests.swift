// AUTH to upstreams in the client state machine: PLAIN preferred, LOGIN as
// fallback, never in clear unless TLS is off by configuration, and refused
// credentials defer the mail rather than bounce it.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SMTPClientAuthTests: XCTestCase {
    func session(tls: OutboundTLS, recipients: Int = 1) -> SMTPClientSession {
        let job = SMTPClientSession.Job(
            sender: MailAddress(localPart: "s", domain: "z.test"),
            recipients: Array(repeating: MailAddress(localPart: "a", domain: "x.test"), count: recipients), bodyType: .sevenBit,
            smtpUTF8: false, size: 10, credentials: ClientCredentials(username: "relay-user", password: "pa55 word"))
        return SMTPClientSession(heloName: "me.test", tls: tls, job: job)
    }

    func afterTLS(_ s: inout SMTPClientSession, ehlo: String) -> SMTPClientSession.Action {
        _ = s.received(reply("220 mx.test ESMTP"))
        _ = s.received(reply("250-mx.test\n250 STARTTLS"))
        _ = s.received(reply("220 go"))
        _ = s.tlsEstablished()
        return s.received(reply(ehlo))
    }

    func testPlainAfterTLS() {
        var s = session(tls: .opportunistic)
        let token = Data("\0relay-user\0pa55 word".utf8).base64EncodedString()
        XCTAssertEqual(sent(afterTLS(&s, ehlo: "250-mx.test\n250 AUTH LOGIN PLAIN")), "AUTH PLAIN \(token)\r\n")
        XCTAssertEqual(sent(s.received(reply("235 2.7.0 ok"))), "MAIL FROM:<s@z.test>\r\n")
    }

    func testLoginWhenPlainIsNotOffered() {
        var s = session(tls: .required)
        XCTAssertEqual(sent(afterTLS(&s, ehlo: "250-mx.test\n250 AUTH=LOGIN")), "AUTH LOGIN\r\n")
        XCTAssertEqual(sent(s.received(reply("334 VXNlcm5hbWU6"))), Data("relay-user".utf8).base64EncodedString() + "\r\n")
        XCTAssertEqual(sent(s.received(reply("334 UGFzc3dvcmQ6"))), Data("pa55 word".utf8).base64EncodedString() + "\r\n")
        XCTAssertEqual(sent(s.received(reply("235 2.7.0 ok"))), "MAIL FROM:<s@z.test>\r\n")
    }

    func testRefusedCredentialsDeferTheMail() {
        var s = session(tls: .opportunistic)
        _ = afterTLS(&s, ehlo: "250-mx.test\n250 AUTH PLAIN")
        guard case .done(let outcome) = s.received(reply("535 5.7.8 bad credentials")) else { return XCTFail() }
        let failure = try! XCTUnwrap(outcome.failure)
        XCTAssertEqual(failure.reply.code, 454)
        XCTAssertFalse(failure.isPermanent)
        XCTAssertTrue(failure.reason.contains("535"), failure.reason)
        XCTAssertFalse("\(failure) \(failure.reason)".contains("pa55"))
    }

    func testNoCredentialsInClear() {
        var s = session(tls: .opportunistic)
        _ = s.received(reply("220 mx.test ESMTP"))
        guard case .done(let outcome) = s.received(reply("250-mx.test\n250 AUTH PLAIN")) else { return XCTFail("must not AUTH in clear") }
        XCTAssertEqual(outcome.failure?.reply.status, EnhancedStatus(4, 7, 10))
        // With tls: none the administrator chose plaintext.
        var plain = session(tls: .none)
        _ = plain.received(reply("220 mx.test ESMTP"))
        XCTAssertTrue(sent(plain.received(reply("250-mx.test\n250 AUTH PLAIN"))).hasPrefix("AUTH PLAIN "))
    }

    func testNoRecipientsIsAProbe() {
        var s = session(tls: .none, recipients: 0)
        _ = s.received(reply("220 mx.test ESMTP"))
        XCTAssertTrue(sent(s.received(reply("250-mx.test\n250 AUTH PLAIN"))).hasPrefix("AUTH PLAIN "))
        XCTAssertEqual(sent(s.received(reply("235 ok"))), "QUIT\r\n")
        guard case .done(let outcome) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertNil(outcome.failure)
    }
}

final class SMTPClientReuseTests: XCTestCase {
    /// After a good transaction the server is ready for the next MAIL (RFC 5321 4.1.1.4): the connection is
    /// kept without a RSET round trip.
    func testKeepOpenReusesTheConnectionAndTheNextSessionStartsAtMAIL() {
        let job = SMTPClientSession.Job(
            sender: MailAddress(localPart: "s", domain: "z.test"), recipients: [MailAddress(localPart: "a", domain: "x.test")],
            bodyType: .sevenBit, smtpUTF8: false, size: 10)
        var s = SMTPClientSession(heloName: "me.test", tls: .none, job: job)
        s.keepOpen = true
        _ = s.received(reply("220 hi"))
        XCTAssertEqual(sent(s.received(reply("250-mx.test\n250 SIZE 100"))), "MAIL FROM:<s@z.test> SIZE=10\r\n")
        _ = s.received(reply("250 ok"))
        _ = s.received(reply("250 ok"))
        guard case .sendBody = s.received(reply("354 go")) else { return XCTFail() }
        guard case .done(let outcome) = s.received(reply("250 2.0.0 queued as X")) else { return XCTFail("no RSET after success") }
        XCTAssertTrue(outcome.reusable)
        XCTAssertTrue(outcome.dataSent)
        XCTAssertEqual(outcome.lastReply?.lines.first, "queued as X")
        var next = SMTPClientSession(continuing: s.negotiated, heloName: "me.test", tls: .none, job: job)
        XCTAssertEqual(sent(next.start()), "MAIL FROM:<s@z.test> SIZE=10\r\n", "SIZE is remembered from the first EHLO")
        // A connection the server closed before MAIL: a failure with no data sent (the caller retries on a new one).
        guard case .done(let dead) = next.connectionFailed("connection closed by the server") else { return XCTFail() }
        XCTAssertFalse(dead.dataSent)
        XCTAssertFalse(dead.reusable)
    }
}
