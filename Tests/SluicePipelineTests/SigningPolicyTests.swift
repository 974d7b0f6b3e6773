// The signing policy as a table: who vouches for the sender, which From:
// domains, and whether a key exists decide whether, and for what, a message
// is signed (R-CORE-2).

import SluiceCore
import SluicePipeline
import XCTest

final class SigningPolicyTests: XCTestCase {
    let client = ClientInfo(address: IPAddress("203.0.113.7"), listener: "mx")
    let keys: (String) -> Bool = { $0 == "example.test" || $0.hasSuffix(".example.test") }

    func testTable() {
        let cases: [(SenderAuthorization?, [String], String)] = [
            (nil, [], "unsigned: the sender was not checked"),
            (SenderAuthorization(principal: nil, fromDomains: []), [], "unsigned: client 203.0.113.7 is neither authenticated nor in networks.trusted"),
            (SenderAuthorization(principal: "user alice", fromDomains: []), [], "unsigned: From: does not name exactly one address"),
            (SenderAuthorization(principal: "user alice", fromDomains: ["other.test"]), [], "unsigned: no active DKIM key for other.test"),
            (SenderAuthorization(principal: "user alice", fromDomains: ["example.test"]), ["example.test"], "signed for example.test: user alice may send as example.test"),
            (SenderAuthorization(principal: "trusted network 10.0.0.0/8", fromDomains: ["mail.example.test"]), ["mail.example.test"],
             "signed for mail.example.test: trusted network 10.0.0.0/8 may send as mail.example.test"),
        ]
        for (sender, domains, note) in cases {
            let d = SigningPolicy.decide(sender, client: client, hasKeys: keys)
            XCTAssertEqual(d.domains, domains, note)
            XCTAssertEqual(d.note, note)
        }
    }
}
