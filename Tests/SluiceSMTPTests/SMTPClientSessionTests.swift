// The client state machine, reply by reply, and the outbound pieces around it.

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SMTPClientSessionTests: XCTestCase {
    let a = MailAddress(localPart: "a", domain: "x.test")
    let b = MailAddress(localPart: "b", domain: "y.test")

    func job(body: BodyType = .sevenBit, utf8: Bool = false) -> SMTPClientSession.Job {
        .init(sender: MailAddress(localPart: "s", domain: "z.test"), recipients: [a, b], bodyType: body, smtpUTF8: utf8, size: 100)
    }

    let ehlo = "250-mx.test\n250-PIPELINING\n250-SIZE 1000\n250-8BITMIME\n250-SMTPUTF8\n250 STARTTLS"

    func testFullDeliveryWithSTARTTLSAndMixedRecipients() {
        let plain = "250-mx.test\n250-SIZE 1000\n250-8BITMIME\n250-SMTPUTF8\n250 STARTTLS"
        var s = SMTPClientSession(heloName: "me.test", tls: .opportunistic, job: job(body: .eightBitMIME))
        XCTAssertEqual(sent(s.received(reply("220 mx.test ESMTP"))), "EHLO me.test\r\n")
        XCTAssertEqual(sent(s.received(reply(plain))), "STARTTLS\r\n")
        guard case .startTLS = s.received(reply("220 2.0.0 go")) else { return XCTFail() }
        XCTAssertEqual(sent(s.tlsEstablished()), "EHLO me.test\r\n")
        XCTAssertEqual(sent(s.received(reply(plain))), "MAIL FROM:<s@z.test> SIZE=100 BODY=8BITMIME\r\n")
        XCTAssertEqual(sent(s.received(reply("250 2.1.0 Ok"))), "RCPT TO:<a@x.test>\r\n")
        XCTAssertEqual(sent(s.received(reply("250 2.1.5 Ok"))), "RCPT TO:<b@y.test>\r\n")
        XCTAssertEqual(sent(s.received(reply("550 5.1.1 No such user"))), "DATA\r\n")
        guard case .sendBody = s.received(reply("354 go")) else { return XCTFail() }
        XCTAssertEqual(sent(s.received(reply("250 2.0.0 Ok: queued as X"))), "QUIT\r\n")
        guard case .done(let o) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(o.accepted, [a])
        XCTAssertEqual(o.refused.map(\.0), [b])
        XCTAssertEqual(o.refused.first?.1.reply.status, EnhancedStatus(5, 1, 1))
        XCTAssertTrue(o.usedTLS)
        XCTAssertNil(o.failure)
    }

    /// RFC 2920: to a server that offers PIPELINING, MAIL, the RCPTs and DATA leave in one write.
    func testPipelinedTransaction() {
        var s = SMTPClientSession(heloName: "me.test", tls: .none, job: job(body: .eightBitMIME))
        _ = s.received(reply("220 mx.test ESMTP"))
        XCTAssertEqual(
            sent(s.received(reply(ehlo))), "MAIL FROM:<s@z.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n")
        for r in ["250 2.1.0 Ok", "250 2.1.5 Ok", "550 5.1.1 No such user"] {
            guard case .wait = s.received(reply(r)) else { return XCTFail("nothing is sent before the DATA reply") }
        }
        guard case .sendBody = s.received(reply("354 go")) else { return XCTFail() }
        XCTAssertEqual(sent(s.received(reply("250 2.0.0 Ok: queued as X"))), "QUIT\r\n")
        guard case .done(let o) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(o.accepted, [a])
        XCTAssertEqual(o.refused.map(\.0), [b])
        XCTAssertNil(o.failure)
    }

    func testPipelinedFailures() {
        // MAIL refused: the attempt fails as a whole, nothing more is sent.
        var s = SMTPClientSession(heloName: "me.test", tls: .none, job: job())
        _ = s.received(reply("220 mx.test ESMTP"))
        _ = s.received(reply(ehlo))
        guard case .done(let refused) = s.received(reply("451 4.3.0 try later")) else { return XCTFail() }
        XCTAssertEqual(refused.failure?.reply.code, 451)
        XCTAssertFalse(refused.dataSent)
        // Every RCPT refused, DATA refused as RFC 2920 says: each recipient fails with its own reply.
        s = SMTPClientSession(heloName: "me.test", tls: .none, job: job())
        _ = s.received(reply("220 mx.test ESMTP"))
        _ = s.received(reply(ehlo))
        _ = s.received(reply("250 ok"))
        _ = s.received(reply("550 5.1.1 no a"))
        _ = s.received(reply("450 4.2.1 later b"))
        XCTAssertEqual(sent(s.received(reply("554 5.5.1 no valid recipients"))), "QUIT\r\n")
        guard case .done(let none) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(none.refused.map { $0.1.reply.code }, [550, 450])
        XCTAssertFalse(none.dataSent)
        // DATA refused after a recipient was taken: that recipient fails with the DATA reply.
        s = SMTPClientSession(heloName: "me.test", tls: .none, job: job())
        _ = s.received(reply("220 mx.test ESMTP"))
        _ = s.received(reply(ehlo))
        _ = s.received(reply("250 ok"))
        _ = s.received(reply("250 ok a"))
        _ = s.received(reply("550 5.1.1 no b"))
        XCTAssertEqual(sent(s.received(reply("451 4.3.0 not now"))), "QUIT\r\n")
        guard case .done(let data) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(Set(data.refused.map { $0.1.reply.code }), [550, 451])
        XCTAssertTrue(data.accepted.isEmpty)
        // A server that answers 354 with no recipient taken gets no message: the connection is closed.
        s = SMTPClientSession(heloName: "me.test", tls: .none, job: job())
        _ = s.received(reply("220 mx.test ESMTP"))
        _ = s.received(reply(ehlo))
        _ = s.received(reply("250 ok"))
        _ = s.received(reply("550 no a"))
        _ = s.received(reply("550 no b"))
        guard case .done(let empty) = s.received(reply("354 go")) else { return XCTFail() }
        XCTAssertFalse(empty.dataSent)
        XCTAssertTrue(empty.accepted.isEmpty)
    }

    func testNever8BitToAServerWithout8BITMIME() {
        var s = SMTPClientSession(heloName: "me.test", tls: .none, job: job(body: .eightBitMIME))
        _ = s.received(reply("220 hi"))
        XCTAssertEqual(sent(s.received(reply("250-mx.test\n250 SIZE 1000"))), "QUIT\r\n")
        guard case .done(let o) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(o.refused.count, 2)
        XCTAssertEqual(o.refused.first?.1.reply.status, EnhancedStatus(5, 6, 3))
    }

    func testTLSRequiredButNotOffered() {
        var s = SMTPClientSession(heloName: "me.test", tls: .required, job: job())
        _ = s.received(reply("220 hi"))
        guard case .done(let o) = s.received(reply("250-mx.test\n250 8BITMIME")) else { return XCTFail() }
        XCTAssertEqual(o.failure?.reply.code, 454)
    }

    /// A handshake that fails (certificate not verified) is a cryptographic failure, 4.7.5; a connection lost before
    /// the server said 220 to STARTTLS stays a connection problem.
    func testTLSHandshakeFailureIsX75() {
        var s = SMTPClientSession(heloName: "me.test", tls: .required, job: job())
        _ = s.received(reply("220 hi"))
        XCTAssertEqual(sent(s.received(reply(ehlo))), "STARTTLS\r\n")
        guard case .startTLS = s.received(reply("220 go")) else { return XCTFail() }
        guard case .done(let o) = s.connectionFailed("certificate verify failed") else { return XCTFail() }
        XCTAssertEqual(o.failure?.reply.status, EnhancedStatus(4, 7, 5))
        XCTAssertEqual(o.failure?.reply.code, 451)
        var lost = SMTPClientSession(heloName: "me.test", tls: .required, job: job())
        _ = lost.received(reply("220 hi"))
        _ = lost.received(reply(ehlo))
        guard case .done(let l) = lost.connectionFailed("connection reset") else { return XCTFail() }
        XCTAssertEqual(l.failure?.reply.status, EnhancedStatus(4, 4, 1))
    }

    func testTemporaryGreetingFailureAndHELOFallback() {
        var s = SMTPClientSession(heloName: "me.test", tls: .opportunistic, job: job())
        guard case .done(let o) = s.received(reply("421 4.3.2 busy")) else { return XCTFail() }
        XCTAssertEqual(o.failure?.reply.code, 421)
        var old = SMTPClientSession(heloName: "me.test", tls: .opportunistic, job: job())
        _ = old.received(reply("220 old"))
        XCTAssertEqual(sent(old.received(reply("502 5.5.1 what"))), "HELO me.test\r\n")
        XCTAssertEqual(sent(old.received(reply("250 hi"))), "MAIL FROM:<s@z.test>\r\n")
    }

    func testReplyParserAndDotStuffer() throws {
        var p = SMTPReplyParser()
        XCTAssertNil(try p.feed("250-first"))
        let r = try XCTUnwrap(try p.feed("250 2.0.0 second"))
        XCTAssertEqual(r.lines, ["first", "2.0.0 second"])
        XCTAssertThrowsError(try p.feed("hello"))
        var d = DotStuffer()
        var out = String(buffer: d.stuff(ByteBuffer(string: ".a\r\nb\r")))
        out += String(buffer: d.stuff(ByteBuffer(string: "\n.c\r\n..d")))
        out += String(buffer: d.finish())
        XCTAssertEqual(out, "..a\r\nb\r\n..c\r\n...d\r\n.\r\n")
    }
}

/// LMTP (RFC 2033): LHLO, no HELO fallback, and one reply per accepted recipient after the data.
final class LMTPClientSessionTests: XCTestCase {
    let a = MailAddress(localPart: "a", domain: "x.test")
    let b = MailAddress(localPart: "b", domain: "x.test")
    let c = MailAddress(localPart: "c", domain: "x.test")

    func session() -> SMTPClientSession {
        var s = SMTPClientSession(
            heloName: "me.test", tls: .none,
            job: .init(sender: MailAddress(localPart: "s", domain: "z.test"), recipients: [a, b, c], bodyType: .sevenBit, smtpUTF8: false, size: 10))
        s.dialect = .lmtp
        return s
    }

    func testEachRecipientHasItsOwnOutcome() {
        var s = session()
        XCTAssertEqual(sent(s.received(reply("220 store.test LMTP"))), "LHLO me.test\r\n")
        XCTAssertEqual(sent(s.received(reply("250-store.test\n250 PIPELINING"))), "MAIL FROM:<s@z.test>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\nDATA\r\n")
        for r in ["250 2.1.0 OK", "250 2.1.5 OK", "250 2.1.5 OK", "550 5.1.1 <c@x.test> User doesn't exist"] {
            guard case .wait = s.received(reply(r)) else { return XCTFail(r) }
        }
        guard case .sendBody = s.received(reply("354 OK")) else { return XCTFail() }
        guard case .wait = s.received(reply("250 2.0.0 <a@x.test> Saved")) else { return XCTFail("a reply per recipient") }
        XCTAssertEqual(sent(s.received(reply("452 4.2.2 <b@x.test> Quota exceeded"))), "QUIT\r\n")
        guard case .done(let o) = s.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(o.accepted, [a])
        XCTAssertEqual(o.refused.map(\.0), [c, b])
        XCTAssertEqual(o.refused.map(\.1.reply.code), [550, 452])
        XCTAssertNil(o.failure)
    }

    func testAConnectionLostBetweenRepliesKeepsTheAnswersGiven() {
        var s = session()
        _ = s.received(reply("220 store.test LMTP"))
        _ = s.received(reply("250 store.test"))
        XCTAssertEqual(sent(s.received(reply("250 OK"))), "RCPT TO:<a@x.test>\r\n")
        XCTAssertEqual(sent(s.received(reply("250 OK"))), "RCPT TO:<b@x.test>\r\n")
        XCTAssertEqual(sent(s.received(reply("250 OK"))), "RCPT TO:<c@x.test>\r\n")
        XCTAssertEqual(sent(s.received(reply("250 OK"))), "DATA\r\n")
        guard case .sendBody = s.received(reply("354 OK")) else { return XCTFail() }
        guard case .wait = s.received(reply("250 2.0.0 Saved")) else { return XCTFail() }
        guard case .done(let o) = s.connectionFailed("reset") else { return XCTFail() }
        XCTAssertEqual(o.accepted, [a])
        XCTAssertEqual(o.refused.map(\.0), [b, c])
        XCTAssertTrue(o.refused.allSatisfy { $0.1.reply.code == 451 }, "retried, not bounced")
        XCTAssertNil(o.failure)
    }

    func testNoHELOFallback() {
        var s = session()
        _ = s.received(reply("220 store.test LMTP"))
        guard case .done(let o) = s.received(reply("500 5.5.1 Unknown command")) else { return XCTFail("LMTP has no HELO") }
        XCTAssertEqual(o.failure?.reply.code, 500)
    }
}
