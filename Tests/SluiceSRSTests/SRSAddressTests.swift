// SRS addresses (pure): forward and reverse, case folding, forged hashes,
// age, malformed addresses, and SRS1 for an address another forwarder
// rewrote.

import Foundation
import SluiceCore
import XCTest

@testable import SluiceSRS

final class SRSAddressTests: XCTestCase {
    let srs = SRSAddress(domain: "fwd.example.test", secret: Array("a secret of sixteen or more".utf8), maxAgeDays: 21)
    let day = Date(timeIntervalSince1970: 20_000 * 86400 + 3600)
    let orig = MailAddress(localPart: "Orig.Sender", domain: "Sender.Example")

    func testForwardAndReverse() throws {
        let f = srs.forward(orig, at: day)
        XCTAssertEqual(f.domain, "fwd.example.test")
        XCTAssertTrue(f.localPart.hasPrefix("SRS0="), f.localPart)
        XCTAssertTrue(f.localPart.hasSuffix("=sender.example=Orig.Sender"), f.localPart)
        XCTAssertEqual(try srs.reverse(f, at: day).get(), MailAddress(localPart: "Orig.Sender", domain: "sender.example"))
        // A next hop that lowercases the address it bounces to.
        let lower = MailAddress(localPart: f.localPart.lowercased(), domain: "FWD.example.test")
        XCTAssertEqual(try srs.reverse(lower, at: day).get().localPart, "orig.sender")
        // Our own domain is not rewritten.
        XCTAssertEqual(srs.forward(MailAddress(localPart: "x", domain: "fwd.example.test"), at: day).localPart, "x")
    }

    func testForgedStaleAndMalformedAddressesAreRefused() {
        let f = srs.forward(orig, at: day)
        var parts = f.localPart.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
        parts[1] = parts[1] == "AAAA" ? "BBBB" : "AAAA"
        XCTAssertEqual(srs.reverse(MailAddress(localPart: parts.joined(separator: "="), domain: f.domain), at: day), .failure(.badHash))
        let other = f.localPart.replacingOccurrences(of: "=Orig.Sender", with: "=ceo")
        XCTAssertEqual(srs.reverse(MailAddress(localPart: other, domain: f.domain), at: day), .failure(.badHash))
        XCTAssertEqual(try srs.reverse(f, at: day.addingTimeInterval(21 * 86400)).get().localPart, "Orig.Sender")
        XCTAssertEqual(srs.reverse(f, at: day.addingTimeInterval(22 * 86400)), .failure(.expired))
        let otherKey = SRSAddress(domain: "fwd.example.test", secret: Array("another secret, also sixteen".utf8), maxAgeDays: 21)
        XCTAssertEqual(otherKey.reverse(f, at: day), .failure(.badHash))
        for local in ["postmaster", "SRS0=abc", "SRS0=HHHH=TT=", "SRS0=HHHHH=TT=d=l", "SRS1=HHHH=x.example", "SRS0=HHHH=!!=d=l"] {
            let r = srs.reverse(MailAddress(localPart: local, domain: "fwd.example.test"), at: day)
            XCTAssertTrue(r == .failure(.notSRS) || r == .failure(.syntax) || r == .failure(.badHash), "\(local): \(r)")
            XCTAssertNil(try? r.get(), local)
        }
        XCTAssertEqual(srs.reverse(MailAddress(localPart: "SRS0=x", domain: "elsewhere.example"), at: day), .failure(.notSRS))
    }

    /// Mail another forwarder already rewrote: SRS1 names that forwarder, and a bounce goes back through it.
    func testSRS1() throws {
        let first = SRSAddress(domain: "first.example", secret: Array("the first forwarder's secret".utf8), maxAgeDays: 21)
        let srs0 = first.forward(orig, at: day)
        let srs1 = srs.forward(srs0, at: day)
        XCTAssertTrue(srs1.localPart.hasPrefix("SRS1="), srs1.localPart)
        XCTAssertTrue(srs1.localPart.contains("=first.example=="), srs1.localPart)
        let back = try srs.reverse(srs1, at: day).get()
        XCTAssertEqual(back.domain, "first.example")
        XCTAssertEqual(try first.reverse(back, at: day).get(), MailAddress(localPart: "Orig.Sender", domain: "sender.example"))
        // Forwarded once more by us: still SRS1 naming the first forwarder.
        XCTAssertTrue(srs.forward(srs1, at: day).localPart.contains("=first.example=="))
    }
}
