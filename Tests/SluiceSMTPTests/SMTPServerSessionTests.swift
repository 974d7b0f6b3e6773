// Transcript tests of the server session state machine.

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SMTPServerSessionTests: XCTestCase {
    func greeted(_ configure: (inout SMTPServerSession.Configuration) -> Void = { _ in }) -> SessionTranscript {
        let t = SessionTranscript(configure: configure)
        t.expect("220 mx.test ESMTP")
        t.send("EHLO client.test")
        t.expect("250 ")
        return t
    }

    func testEHLOAdvertisesExtensions() {
        let t = SessionTranscript()
        t.send("EHLO client.test")
        let ehlo = t.replies.last!
        XCTAssertEqual(
            ehlo.lines,
            ["mx.test", "PIPELINING", "SIZE 1000", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "STARTTLS"])
        XCTAssertTrue(ehlo.wireFormat.hasPrefix("250-mx.test\r\n250-PIPELINING\r\n"))
        XCTAssertTrue(ehlo.wireFormat.hasSuffix("250 STARTTLS\r\n"))
    }

    func testFullTransaction() {
        let t = greeted()
        t.send("MAIL FROM:<a@sender.test>")
        t.expect("250 2.1.0")
        t.send("RCPT TO:<b@rcpt.test>")
        t.expect("250 2.1.5")
        t.send("DATA")
        t.expect("354")
        t.raw("Subject: hi\r\n\r\nbody\r\n.\r\n")
        t.expect("250 2.0.0 Ok: queued as ")
        XCTAssertEqual(t.messages.count, 1)
        XCTAssertEqual(t.messages[0].2, "Subject: hi\r\n\r\nbody\r\n")
        XCTAssertEqual(t.messages[0].0.recipients.map(\.address.description), ["b@rcpt.test"])
        XCTAssertEqual(t.messages[0].0.client.helo, "client.test")
        t.send("QUIT")
        t.expect("221 2.0.0")
        XCTAssertTrue(t.closed)
    }

    func testPipelinedTransactionInOneWrite() {
        let t = greeted()
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nRCPT TO:<c@r.test>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<d@r.test>\r\nBDAT 3 LAST\r\nabcQUIT\r\n")
        for p in ["250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "221"] { t.expect(p) }
        XCTAssertEqual(t.messages.count, 2)
        XCTAssertNil(t.messages[1].0.sender)
        XCTAssertEqual(t.messages[1].2, "abc")
    }

    func testOutOfOrderCommands() {
        let t = SessionTranscript()
        t.expect("220")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("503 5.5.1")
        t.send("HELO c.test")
        t.expect("250 mx.test")
        t.send("RCPT TO:<b@r.test>")
        t.expect("503 5.5.1")
        t.send("DATA")
        t.expect("503 5.5.1")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("503 5.5.1 Error: nested MAIL")
        t.send("DATA")
        t.expect("503 5.5.1 Error: need RCPT")
        t.send("RSET")
        t.expect("250 2.0.0")
        t.send("RCPT TO:<b@r.test>")
        t.expect("503 5.5.1")
    }

    func testPostmasterWithoutDomainGetsOurName() {
        let t = greeted()
        var seen: [MailAddress] = []
        t.recipientCheck = { seen.append($0); return nil }
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        t.send("RCPT TO:<Postmaster>")
        t.expect("250 2.1.5")
        XCTAssertEqual(seen, [MailAddress(localPart: "postmaster", domain: "mx.test")])
    }

    func testVRFYNOOPHELP() {
        let t = greeted()
        t.send("VRFY root")
        t.expect("252 2.0.0")
        t.send("NOOP")
        t.expect("250 2.0.0")
        t.send("HELP")
        t.expect("214 2.0.0")
        t.send("AUTH PLAIN")
        t.expect("502 5.5.1")
    }

    func testSizeLimits() {
        let t = greeted()
        t.send("MAIL FROM:<a@s.test> SIZE=5000")
        t.expect("552 5.3.4")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        t.send("RCPT TO:<b@r.test>")
        t.expect("250")
        t.send("DATA")
        t.expect("354")
        t.raw(String(repeating: "x", count: 2000) + "\r\n.\r\n")
        t.expect("552 5.3.4")
        XCTAssertEqual(t.messages.count, 0)
        XCTAssertEqual(t.aborted, 1)
        // The session goes on.
        t.send("NOOP")
        t.expect("250")
    }

    func testTooManyRecipients() {
        let t = greeted()
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        for i in 0..<3 {
            t.send("RCPT TO:<b\(i)@r.test>")
            t.expect("250 2.1.5")
        }
        t.send("RCPT TO:<b9@r.test>")
        t.expect("452 4.5.3")
    }

    func testRecipientRefusedByCheck() {
        let t = greeted()
        t.recipientCheck = { r in r.domain == "far.test" ? SMTPError(550, .init(5, 7, 1), "Relay access denied") : nil }
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        t.send("RCPT TO:<x@far.test>")
        t.expect("550 5.7.1")
        t.send("RCPT TO:<x@near.test>")
        t.expect("250 2.1.5")
        // The refusal says where it happened, for which recipient and transaction (the log and the metric's stage).
        XCTAssertEqual(t.refusals.map(\.stage), [.rcpt])
        XCTAssertEqual(t.refusals.first?.recipient?.description, "x@far.test")
        XCTAssertNotNil(t.refusals.first?.queueID)
    }

    /// Each refusal is counted in the stage it happened in: a rule's reject at end of DATA is `data`, not `command`.
    func testRefusalsCarryTheirStage() {
        let t = greeted()
        t.senderCheck = { s in s?.domain == "blocked.test" ? SMTPError(550, .init(5, 7, 1), "Sender blocked", reason: "list") : nil }
        t.messageResult = { _ in .failure(SMTPError(550, .init(5, 7, 1), "Message rejected", reason: "rule block-cards")) }
        t.raw("MAIL FROM:<a@blocked.test>\r\nBOGUS\r\nMAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\nx\r\n.\r\n")
        XCTAssertEqual(t.refusals.map(\.stage), [.mail, .command, .data])
        XCTAssertEqual(t.refusals.map(\.error.reason), ["list", "Error: command not recognized", "rule block-cards"])
        XCTAssertNotNil(t.refusals.last?.queueID, "the refused message's queue id is in its log line")
    }

    func testLongCommandLine() {
        let t = greeted()
        t.send("NOOP " + String(repeating: "a", count: 5000))
        t.expect("500 5.5.6")
        t.send("NOOP")
        t.expect("250")
    }

    func testSTARTTLSDiscardsPipelinedPlaintext() {
        let t = greeted()
        t.raw("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n")
        t.expect("220 2.0.0")
        XCTAssertTrue(t.startedTLS)
        t.expectNoReply()
        // After TLS the client must greet again; the injected MAIL never ran.
        t.send("MAIL FROM:<a@s.test>")
        t.expect("503 5.5.1")
        t.send("EHLO c.test")
        XCTAssertFalse(t.replies.last!.lines.contains("STARTTLS"))
        t.expect("250")
        t.send("STARTTLS")
        t.expect("503 5.5.1")
    }

    func testRequireTLS() {
        let t = greeted { $0.requireTLS = true }
        t.send("MAIL FROM:<a@s.test>")
        t.expect("530 5.7.0")
    }

    func testBDATChunks() {
        let t = greeted()
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nBDAT 10\r\nSubject: x")
        t.expect("250")
        t.expect("250")
        t.expect("250 2.0.0 Ok: 10 octets")
        t.raw("BDAT 10 LAST\r\n\r\n\r\nbody\r\n")
        t.expect("250 2.0.0 Ok: queued as")
        XCTAssertEqual(t.messages.first?.2, "Subject: x\r\n\r\nbody\r\n")
        XCTAssertEqual(t.messages.first?.1.first("subject"), "x")
    }

    func testBDATWithoutRecipientsConsumesTheChunk() {
        let t = greeted()
        t.raw("BDAT 14 LAST\r\nMAIL FROM:<>\r\nNOOP\r\n")
        t.expect("503 5.5.1")
        t.expect("250 2.0.0")  // NOOP: the chunk bytes were not taken as commands
        t.expectNoReply()
    }

    func testDATAAfterBDATIsRefused() {
        let t = greeted()
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nBDAT 1\r\nxDATA\r\n")
        t.expect("250")
        t.expect("250")
        t.expect("250 2.0.0 Ok: 1 octets")
        t.expect("503 5.5.1")
    }

    func testSmugglingAttemptStaysOneMessage() {
        let t = greeted()
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\n")
        t.expect("250")
        t.expect("250")
        t.expect("354")
        t.raw("Subject: one\r\n\r\nx\n.\nMAIL FROM:<admin@victim.test>\r\nRCPT TO:<c@r.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n")
        // One reply for one message; with the default policy it is refused for its bare LF.
        t.expect("554 5.6.0")
        t.expectNoReply()
        XCTAssertEqual(t.messages.count, 0)
    }

    func testSmugglingAttemptWithNormalizePolicy() {
        let t = greeted { $0.bareLineEndings = .normalize }
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\n")
        t.raw("Subject: one\r\n\r\nx\n.\nMAIL FROM:<admin@victim.test>\r\n.\r\n")
        t.expect("250")
        t.expect("250")
        t.expect("354")
        t.expect("250 2.0.0")
        XCTAssertEqual(t.messages.count, 1)
        // The lone dot is content (it did not follow a CRLF); outbound dot-stuffing keeps it content.
        XCTAssertEqual(t.messages[0].2, "Subject: one\r\n\r\nx\r\n.\r\nMAIL FROM:<admin@victim.test>\r\n")
    }

    func testMailLoopAndFromChecks() {
        for (headers, code) in [
            (String(repeating: "Received: from x\r\n", count: 51) + "From: a@s.test\r\n", "554 5.4.6"),
            ("From: a@s.test\r\nFrom: b@s.test\r\n", "550 5.6.0"),
            ("From: a@s.test, b@s.test\r\n", "550 5.6.0"),
            ("From: a@s.test, b@s.test\r\nSender: a@s.test\r\n", "250 2.0.0"),
            ("From: \"Doe, John\" <j@s.test>\r\n", "250 2.0.0"),
        ] {
            let t = greeted { $0.maxMessageSize = 100_000 }
            t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\n" + headers + "\r\nbody\r\n.\r\n")
            t.expect("250")
            t.expect("250")
            t.expect("354")
            t.expect(code)
        }
    }

    func testQueueFailureIsTemporary() {
        let t = greeted()
        t.messageResult = { _ in .failure(SMTPError.from(CocoaError(.fileWriteOutOfSpace))) }
        t.raw("MAIL FROM:<a@s.test>\r\nRCPT TO:<b@r.test>\r\nDATA\r\nx\r\n.\r\n")
        t.expect("250")
        t.expect("250")
        t.expect("354")
        t.expect("451 4.3.0")
    }

    func testTooManyErrorsCloses() {
        let t = greeted { $0.maxErrors = 3 }
        t.send("BAD")
        t.send("BAD")
        t.send("BAD")
        t.expect("500")
        t.expect("500")
        t.expect("421 4.7.0")
        XCTAssertTrue(t.closed)
    }

    func testNonASCIISenderNeedsSMTPUTF8() {
        let t = greeted()
        t.send("MAIL FROM:<jöe@s.test>")
        t.expect("553 5.6.7")
        t.send("MAIL FROM:<jöe@s.test> SMTPUTF8")
        t.expect("250")
        t.send("RCPT TO:<用户@例子.测试>")
        t.expect("250")
    }

    func testReceivedHeaderCarriesIdTLSAndRecipient() {
        var env = Envelope(
            queueID: QueueID("0123456789ABCDEF")!, sender: nil,
            recipients: [Recipient(address: MailAddress(localPart: "b", domain: "r.test"))],
            client: ClientInfo(address: IPAddress("192.0.2.7"), listener: "relay"))
        env.client.helo = "client.test"
        env.client.tlsVersion = "TLSv1.3"
        let h = ReceivedHeader.make(envelope: env, hostname: "mx.test", date: Date(timeIntervalSince1970: 0))
        XCTAssertTrue(h.hasPrefix("Received: from client.test (unknown [192.0.2.7])\r\n\t(using TLSv1.3)\r\n"), h)
        XCTAssertTrue(h.contains("by mx.test (Sluice) with ESMTPS id 0123456789ABCDEF"), h)
        XCTAssertTrue(h.hasSuffix("for <b@r.test>; Thu, 01 Jan 1970 00:00:00 +0000"), h)
        env.client.tlsCipher = TLSCipherSuite(code: 0x1302).name
        XCTAssertTrue(ReceivedHeader.make(envelope: env, hostname: "mx.test", date: Date(timeIntervalSince1970: 0))
            .contains("\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"))
        env.client.tlsCipher = TLSCipherSuite(code: 0xC0FF).name
        XCTAssertTrue(ReceivedHeader.make(envelope: env, hostname: "mx.test", date: Date(timeIntervalSince1970: 0))
            .contains("\t(using TLSv1.3 with cipher 0xC0FF)\r\n"))
    }
}
