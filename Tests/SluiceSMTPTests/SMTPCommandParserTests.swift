// Table-driven tests of the command parser: every command, every parameter,
// and the exact reply for bad input.

import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SMTPCommandParserTests: XCTestCase {
    func parse(_ s: String, utf8: Bool = false) -> Result<SMTPCommand, SMTPError> {
        do throws(SMTPError) { return .success(try SMTPCommandParser.parse(Array(s.utf8), utf8Recipients: utf8)) } catch {
            return .failure(error)
        }
    }

    func assertReply(_ s: String, _ code: Int, _ status: String, file: StaticString = #filePath, line: UInt = #line) {
        switch parse(s) {
        case .success(let c): XCTFail("\(s) parsed as \(c)", file: file, line: line)
        case .failure(let e):
            XCTAssertEqual(e.reply.code, code, s, file: file, line: line)
            XCTAssertEqual(e.reply.status?.description, status, s, file: file, line: line)
        }
    }

    func testSimpleVerbsAreCaseInsensitive() throws {
        let table: [(String, SMTPCommand)] = [
            ("EHLO client.example", .ehlo("client.example")), ("helo client", .helo("client")),
            ("DATA", .data), ("data", .data), ("RSET", .rset), ("NOOP", .noop), ("noop anything", .noop),
            ("QUIT", .quit), ("VRFY postmaster", .vrfy), ("EXPN list", .vrfy), ("HELP", .help), ("STARTTLS", .starttls),
            ("BDAT 100", .bdat(size: 100, last: false)), ("BDAT 0 LAST", .bdat(size: 0, last: true)),
            ("bdat 5 last", .bdat(size: 5, last: true)),
            ("AUTH PLAIN dGVzdA==", .auth(mechanism: "PLAIN", initialResponse: "dGVzdA==")),
        ]
        for (input, expected) in table {
            XCTAssertEqual(try parse(input).get(), expected, input)
        }
    }

    func testMailFromAndParameters() throws {
        guard case .mail(let sender, let p) = try parse("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bdef").get() else {
            return XCTFail("not MAIL")
        }
        XCTAssertEqual(sender, MailAddress(localPart: "a", domain: "b.example"))
        XCTAssertEqual(p.size, 1000)
        XCTAssertEqual(p.body, .eightBitMIME)
        XCTAssertTrue(p.smtpUTF8)
        XCTAssertEqual(p.dsnReturn, .headers)
        XCTAssertEqual(p.envelopeID, "abc+def")
        guard case .mail(let nullSender, _) = try parse("MAIL FROM:<>").get() else { return XCTFail() }
        XCTAssertNil(nullSender)
        // A space after the colon and a bare address are tolerated, as by Postfix.
        guard case .mail(let s2, _) = try parse("mail from: <x@y.example>").get() else { return XCTFail() }
        XCTAssertEqual(s2?.domain, "y.example")
        guard case .mail(let s3, _) = try parse("MAIL FROM:x@y.example").get() else { return XCTFail() }
        XCTAssertEqual(s3?.localPart, "x")
    }

    func testRcptParameters() throws {
        guard case .rcpt(let r, let p) = try parse("RCPT TO:<u@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40d.example").get() else {
            return XCTFail()
        }
        XCTAssertEqual(r.description, "u@d.example")
        XCTAssertEqual(p.notify, [.success, .failure])
        XCTAssertEqual(p.originalRecipient, "rfc822;u@d.example")
        guard case .rcpt(_, let p2) = try parse("RCPT TO:<u@d.example> NOTIFY=NEVER").get() else { return XCTFail() }
        XCTAssertEqual(p2.notify, .never)
    }

    func testSourceRouteIsAcceptedAndIgnored() throws {
        guard case .rcpt(let r, _) = try parse("RCPT TO:<@relay.example,@other.example:user@final.example>").get() else {
            return XCTFail()
        }
        XCTAssertEqual(r, MailAddress(localPart: "user", domain: "final.example"))
    }

    func testQuotedLocalPartWithSpaces() throws {
        guard case .rcpt(let r, _) = try parse("RCPT TO:<\"john smith\"@example.test>").get() else { return XCTFail() }
        XCTAssertEqual(r.localPart, "\"john smith\"")
        XCTAssertEqual(r.unquotedLocalPart, "john smith")
    }

    func testBadInputGetsTheRightReply() {
        let table: [(String, Int, String)] = [
            ("FOO", 500, "5.5.2"),
            ("EHLO", 501, "5.5.4"),
            ("MAIL TO:<a@b>", 501, "5.5.4"),
            ("MAIL FROM:<a@b", 501, "5.1.7"),
            ("MAIL FROM:<a b@c>", 501, "5.1.7"),
            ("MAIL FROM:<a@-bad-.example>", 501, "5.1.7"),
            ("MAIL FROM:<a..b@c.example>", 501, "5.1.7"),
            ("MAIL FROM:<a@b.example> FOO=1", 555, "5.5.4"),
            ("MAIL FROM:<a@b.example> SIZE=abc", 501, "5.5.4"),
            ("MAIL FROM:<a@b.example> BODY=BINARYMIME", 501, "5.5.4"),
            ("MAIL FROM:<a@b.example> SIZE=1 SIZE=2", 501, "5.5.4"),
            ("MAIL FROM:<jöe@b.example>", 553, "5.6.7"),
            ("RCPT TO:<>", 501, "5.1.3"),
            ("RCPT TO:<u@d.example> NOTIFY=NEVER,SUCCESS", 501, "5.5.4"),
            ("RCPT TO:<u@d.example> NOTIFY=SOMETIMES", 501, "5.5.4"),
            ("RCPT TO:<u@[999.1.1.1]>", 501, "5.1.3"),
            ("DATA now", 501, "5.5.4"),
            ("BDAT", 501, "5.5.4"),
            ("BDAT -1", 501, "5.5.4"),
            ("BDAT 10 FIRST", 501, "5.5.4"),
            ("STARTTLS now", 501, "5.5.4"),
        ]
        for (input, code, status) in table { assertReply(input, code, status) }
    }

    func testInvalidUTF8AndNULAreRefused() {
        var bytes = Array("MAIL FROM:<a@b.example>".utf8)
        bytes.append(0xFF)
        do throws(SMTPError) {
            _ = try SMTPCommandParser.parse(bytes)
            XCTFail("accepted invalid UTF-8")
        } catch { XCTAssertEqual(error.reply.code, 500) }
        do throws(SMTPError) {
            _ = try SMTPCommandParser.parse(Array("NOOP\u{0}x".utf8))
            XCTFail("accepted NUL")
        } catch { XCTAssertEqual(error.reply.code, 500) }
    }

    func testSMTPUTF8Addresses() throws {
        guard case .mail(let s, _) = try parse("MAIL FROM:<jöe@bücher.example> SMTPUTF8").get() else { return XCTFail() }
        XCTAssertEqual(s?.domain, "bücher.example")
        XCTAssertNotNil(try? parse("RCPT TO:<用户@例子.测试>", utf8: true).get())
        assertReply("RCPT TO:<用户@例子.测试>", 553, "5.6.7")
    }

    func testAddressLiterals() throws {
        XCTAssertNotNil(try? parse("RCPT TO:<u@[192.0.2.1]>").get())
        XCTAssertNotNil(try? parse("RCPT TO:<u@[IPv6:2001:db8::1]>").get())
    }

    func testXTextRoundTrip() {
        XCTAssertEqual(XText.encode("a+b=c d"), "a+2Bb+3Dc+20d")
        XCTAssertEqual(XText.decode("a+2Bb+3Dc+20d"), "a+b=c d")
        XCTAssertNil(XText.decode("a+2"))
        XCTAssertNil(XText.decode("a=b"))
    }
}
