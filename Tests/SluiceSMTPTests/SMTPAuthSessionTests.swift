// SMTP AUTH in the session: advertised only over TLS, PLAIN and LOGIN with and
// without initial responses, cancellation, and `auth: required`.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SMTPAuthSessionTests: XCTestCase {
    func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    func session(_ auth: AuthRequirement = .optional, tls: Bool = true) -> SessionTranscript {
        let t = SessionTranscript { $0.auth = auth }
        t.expect("220")
        if tls {
            t.send("EHLO c.test")
            t.expect("250")
            t.send("STARTTLS")
            t.expect("220")
        }
        t.send("EHLO c.test")
        return t
    }

    func testAUTHIsOfferedOnlyAfterTLS() {
        let plain = session(tls: false)
        XCTAssertFalse(plain.replies.last!.lines.contains("AUTH PLAIN LOGIN"))
        plain.expect("250")
        plain.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        plain.expect("538 5.7.11")
        XCTAssertTrue(plain.authAttempts.isEmpty)
        let tls = session()
        XCTAssertTrue(tls.replies.last!.lines.contains("AUTH PLAIN LOGIN"))
    }

    func testPlainWithInitialResponse() {
        let t = session()
        t.expect("250")
        t.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        t.expect("235 2.7.0")
        XCTAssertEqual(t.session.client.authenticatedUser, "app")
        t.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        t.expect("503 5.5.1")
    }

    func testPlainChallengeAndLogin() {
        let t = session()
        t.expect("250")
        t.send("AUTH PLAIN")
        t.expect("334")
        t.send(b64("app\0app\0wrong"))
        t.expect("535 5.7.8")
        t.send("AUTH LOGIN")
        t.expect("334 VXNlcm5hbWU6")
        t.send(b64("app"))
        t.expect("334 UGFzc3dvcmQ6")
        t.send(b64("s3cret"))
        t.expect("235 2.7.0")
        XCTAssertEqual(t.authAttempts.map(\.2), ["PLAIN", "LOGIN"])
    }

    func testLoginWithInitialUserAndCancellation() {
        let t = session()
        t.expect("250")
        t.send("AUTH LOGIN \(b64("app"))")
        t.expect("334 UGFzc3dvcmQ6")
        t.send("*")
        t.expect("501 5.7.0")
        t.send("AUTH LOGIN")
        t.expect("334")
        t.send("not base64!")
        t.expect("501 5.5.2")
        t.send("AUTH CRAM-MD5")
        t.expect("504 5.5.4")
        t.send("NOOP")
        t.expect("250")
    }

    func testProxyAuthorizationIsRefused() {
        let t = session()
        t.expect("250")
        t.send("AUTH PLAIN \(b64("boss\0app\0s3cret"))")
        t.expect("535 5.7.8")
        XCTAssertTrue(t.authAttempts.isEmpty)
    }

    func testRequiredAuthBlocksMail() {
        let t = session(.required)
        t.expect("250")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("530 5.7.0")
        t.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        t.expect("235")
        t.send("MAIL FROM:<a@s.test>")
        t.expect("250")
        t.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        t.expect("503 5.5.1")
    }

    func testAuthNotEnabled() {
        let t = session(.none)
        t.expect("250")
        t.send("AUTH PLAIN \(b64("\0app\0s3cret"))")
        t.expect("502 5.5.1")
    }

    func testReceivedHeaderNamesTheUser() {
        var env = Envelope(
            queueID: QueueID.generate(), sender: nil, client: ClientInfo(address: IPAddress("192.0.2.7"), listener: "submission"))
        env.client.tlsVersion = "TLSv1.3"
        env.client.authenticatedUser = "app"
        let h = ReceivedHeader.make(envelope: env, hostname: "mx.test", date: Date(), showsUser: true)
        XCTAssertTrue(h.contains("(Authenticated sender: app)"), h)
        XCTAssertTrue(h.contains("with ESMTPSA"), h)
        let quiet = ReceivedHeader.make(envelope: env, hostname: "mx.test", date: Date())
        XCTAssertFalse(quiet.contains("app"), "the user is named only when the listener says so: \(quiet)")
        XCTAssertTrue(quiet.contains("with ESMTPSA"), quiet)
    }
}

/// `auth: mtls`: no AUTH offered; MAIL needs TLS and a verified client certificate.
final class MTLSSessionTests: XCTestCase {
    static let certificate = ClientCertificate(
        subject: "CN=app1,O=Example", issuer: "CN=CA", subjectAlternativeNames: [], fingerprint: "sha256:" + String(repeating: "ab", count: 32),
        serialNumber: "1f")

    func transcript(presenting certificate: ClientCertificate?, tls: Bool = true) -> SessionTranscript {
        let t = SessionTranscript { $0.auth = .mtls }
        t.clientCertificate = certificate
        t.expect("220")
        t.send("EHLO c.test")
        t.expect("250")
        if tls {
            t.send("STARTTLS")
            t.expect("220")
            t.send("EHLO c.test")
            XCTAssertFalse(t.replies.last!.lines.contains { $0.hasPrefix("AUTH") }, "mtls offers no AUTH")
            t.expect("250")
        }
        return t
    }

    func testMailNeedsAVerifiedCertificate() {
        let with = transcript(presenting: Self.certificate)
        with.send("MAIL FROM:<x@example.test>")
        with.expect("250")
        XCTAssertEqual(with.session.client.clientCertificate, Self.certificate)

        let without = transcript(presenting: nil)
        without.send("MAIL FROM:<x@example.test>")
        without.expect("530 5.7.0 A client certificate is required")
        without.send("AUTH PLAIN \(Data("\0app\0s3cret".utf8).base64EncodedString())")
        without.expect("502 5.5.1")

        let clear = transcript(presenting: Self.certificate, tls: false)
        clear.send("MAIL FROM:<x@example.test>")
        clear.expect("530 5.7.0 Must issue a STARTTLS command first")
    }
}
