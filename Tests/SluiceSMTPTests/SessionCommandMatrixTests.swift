// Every command in every state of the server session, as a table of the
// first reply code: the protocol's sequencing rules (RFC 5321 §4.1.4, RFC 3030
// for BDAT, RFC 3207 for STARTTLS, RFC 4954 for AUTH) in one place.

import NIOCore
import SluiceCore
import XCTest

@testable import SluiceSMTP

final class SessionCommandMatrixTests: XCTestCase {
    /// How to bring a fresh session to each state.
    static let states: [(String, [String])] = [
        ("greeted", []),
        ("helo", ["EHLO client.test"]),
        ("mail", ["EHLO client.test", "MAIL FROM:<a@s.test>"]),
        ("rcpt", ["EHLO client.test", "MAIL FROM:<a@s.test>", "RCPT TO:<b@r.test>"]),
        ("after-message", ["EHLO client.test", "MAIL FROM:<a@s.test>", "RCPT TO:<b@r.test>", "BDAT 3 LAST\r\nhi\r"]),
        ("after-tls", ["EHLO client.test", "STARTTLS"]),
        ("tls-helo", ["EHLO client.test", "STARTTLS", "EHLO client.test"]),
        ("authenticated", ["EHLO client.test", "AUTH PLAIN AGFwcABzM2NyZXQ="]),
    ]

    static let commands = [
        "HELO c.test", "EHLO c.test", "MAIL FROM:<x@s.test>", "RCPT TO:<y@r.test>", "DATA", "BDAT 0 LAST", "RSET", "NOOP", "QUIT",
        "VRFY postmaster", "HELP", "STARTTLS", "AUTH PLAIN AGFwcABzM2NyZXQ=", "EXPN staff", "FROB",
    ]

    /// First reply code per state (rows) and command (columns, in `commands` order).
    static let expected: [String: [Int]] = [
        // EXPN answers like VRFY (252: nothing is disclosed); DATA or BDAT without a recipient is a sequence error.
        "greeted": [250, 250, 503, 503, 503, 503, 250, 250, 221, 252, 214, 220, 503, 252, 500],
        "helo": [250, 250, 250, 503, 503, 503, 250, 250, 221, 252, 214, 220, 235, 252, 500],
        "mail": [250, 250, 503, 250, 503, 503, 250, 250, 221, 252, 214, 503, 503, 252, 500],
        "rcpt": [250, 250, 503, 250, 354, 250, 250, 250, 221, 252, 214, 503, 503, 252, 500],
        "after-message": [250, 250, 250, 503, 503, 503, 250, 250, 221, 252, 214, 220, 235, 252, 500],
        // After the handshake the session starts over (RFC 3207 §4.2): a new EHLO first; no second STARTTLS.
        "after-tls": [250, 250, 503, 503, 503, 503, 250, 250, 221, 252, 214, 503, 503, 252, 500],
        "tls-helo": [250, 250, 250, 503, 503, 503, 250, 250, 221, 252, 214, 503, 235, 252, 500],
        // Authenticated once per session (RFC 4954 §4).
        "authenticated": [250, 250, 250, 503, 503, 503, 250, 250, 221, 252, 214, 220, 503, 252, 500],
    ]

    func testEveryCommandInEveryState() {
        var actual: [String: [Int]] = [:]
        for (state, setup) in Self.states {
            var row: [Int] = []
            for command in Self.commands {
                let t = SessionTranscript { $0.auth = .optional; $0.authRequiresTLS = false }
                for line in setup { t.send(line) }
                t.replies.removeAll()
                t.send(command)
                row.append(t.replies.first?.code ?? 0)
            }
            actual[state] = row
        }
        for (state, _) in Self.states {
            let diffs = zip(Self.commands, zip(Self.expected[state]!, actual[state]!)).filter { $0.1.0 != $0.1.1 }
                .map { "\($0.0): expected \($0.1.0), got \($0.1.1)" }
            XCTAssertEqual(diffs, [], "state \(state)")
        }
    }
}
