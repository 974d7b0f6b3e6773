// REQUIRETLS (RFC 8689) on both sides of the dialogue: offered only under
// TLS, MAIL ... REQUIRETLS refused before STARTTLS and carried in the
// envelope after it; as a client, sent only under TLS to a server that
// offers it, and a server that does not is a permanent 5.7.30.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class RequireTLSSessionTests: XCTestCase {
    func testServerOffersAndTakesItOnlyUnderTLS() {
        let plain = SessionTranscript()
        plain.expect("220")
        plain.send("EHLO c.test")
        XCTAssertFalse(plain.replies.last!.lines.contains("REQUIRETLS"))
        plain.expect("250")
        plain.send("MAIL FROM:<a@c.test> REQUIRETLS")
        plain.expect("530 5.7.10")

        let t = SessionTranscript()
        t.expect("220")
        t.send("EHLO c.test")
        t.expect("250")
        t.send("STARTTLS")
        t.expect("220")
        t.send("EHLO c.test")
        XCTAssertTrue(t.replies.last!.lines.contains("REQUIRETLS"))
        t.expect("250")
        t.send("MAIL FROM:<a@c.test> REQUIRETLS")
        t.expect("250")
        t.send("RCPT TO:<b@d.test>")
        t.expect("250")
        t.send("DATA")
        t.expect("354")
        t.raw("Subject: x\r\n\r\nhi\r\n.\r\n")
        t.expect("250")
        XCTAssertEqual(t.messages.first?.0.requireTLS, true)
        XCTAssertEqual(try SMTPCommandParser.parseMailParameters(["REQUIRETLS"]).requireTLS, true)
        XCTAssertThrowsError(try SMTPCommandParser.parseMailParameters(["REQUIRETLS=yes"]))
    }

    func testTLSRequiredNoHeaderWaivesPoliciesUnlessREQUIRETLS() {
        func send(_ mailParameters: String) -> Envelope? {
            let t = SessionTranscript()
            t.send("EHLO c.test")
            t.send("STARTTLS")
            t.send("EHLO c.test")
            t.send("MAIL FROM:<a@c.test>\(mailParameters)")
            t.send("RCPT TO:<b@d.test>")
            t.send("DATA")
            t.raw("TLS-Required: No\r\nSubject: x\r\n\r\nhi\r\n.\r\n")
            return t.messages.first?.0
        }
        XCTAssertEqual(send("")?.tlsPoliciesWaived, true)
        XCTAssertEqual(send(" REQUIRETLS")?.tlsPoliciesWaived, false, "REQUIRETLS: the header is ignored")
    }

    func testEnvelopeFilesWithoutTheFlagStillRead() throws {
        var e = Envelope(queueID: QueueID("1K0000000000000A")!, sender: nil, client: ClientInfo(address: IPAddress("192.0.2.1"), listener: "t"))
        let old = try JSONEncoder().encode(e)
        XCTAssertFalse(String(decoding: old, as: UTF8.self).contains("requireTLS"), "nothing written for the common case")
        XCTAssertFalse(try JSONDecoder().decode(Envelope.self, from: old).requireTLS)
        e.requireTLS = true
        XCTAssertTrue(try JSONDecoder().decode(Envelope.self, from: try JSONEncoder().encode(e)).requireTLS)
    }

    func testClientSendsItOnlyToAServerThatOffersIt() {
        func reply(_ text: String) -> SMTPReply {
            var p = SMTPReplyParser()
            var out: SMTPReply?
            for line in text.split(separator: "\n") { out = try? p.feed(String(line)) }
            return out!
        }
        var job = SMTPClientSession.Job(
            sender: MailAddress(localPart: "s", domain: "z.test"), recipients: [MailAddress(localPart: "a", domain: "x.test")], bodyType: .sevenBit,
            smtpUTF8: false, size: 10)
        job.requireTLS = true
        var s = SMTPClientSession(heloName: "me.test", tls: .required, job: job)
        _ = s.received(reply("220 hi"))
        _ = s.received(reply("250-mx.test\n250 STARTTLS"))
        _ = s.received(reply("220 go"))
        guard case .send(let mail) = s.tlsEstablished(), mail.hasPrefix("EHLO") else { return XCTFail() }
        guard case .send(let command) = s.received(reply("250-mx.test\n250 REQUIRETLS")) else { return XCTFail() }
        XCTAssertEqual(command, "MAIL FROM:<s@z.test> REQUIRETLS\r\n")

        var without = SMTPClientSession(heloName: "me.test", tls: .required, job: job)
        _ = without.received(reply("220 hi"))
        _ = without.received(reply("250-mx.test\n250 STARTTLS"))
        _ = without.received(reply("220 go"))
        _ = without.tlsEstablished()
        guard case .send(let quit) = without.received(reply("250-mx.test\n250 8BITMIME")), quit == "QUIT\r\n" else { return XCTFail() }
        guard case .done(let o) = without.received(reply("221 bye")) else { return XCTFail() }
        XCTAssertEqual(o.refused.first?.1.reply.status, EnhancedStatus(5, 7, 30))
    }
}
