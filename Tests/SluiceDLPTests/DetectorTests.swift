// Detectors on real formats and their near misses: Luhn and issuer ranges,
// SSA rules, IBAN lengths and mod-97, AWS keys that need their context,
// JWTs that must decode; and what a finding shows instead of the value.

import XCTest

@testable import SluiceDLP

final class DetectorTests: XCTestCase {
    func engine(_ ids: [String]) throws -> DLPEngine {
        try DLPEngine(detectors: ids.map { Detector.predefined[$0]! })
    }

    func found(_ ids: [String], _ text: String) throws -> [Finding] {
        try engine(ids).findings(in: Array(text.utf8), part: "body")
    }

    func testValidators() {
        XCTAssertTrue(Validators.creditCard("4111 1111 1111 1111"))
        XCTAssertTrue(Validators.creditCard("5500-0000-0000-0004"))
        XCTAssertTrue(Validators.creditCard("378282246310005"))  // amex
        XCTAssertFalse(Validators.creditCard("4111 1111 1111 1112"), "bad Luhn")
        XCTAssertFalse(Validators.creditCard("1234567812345670"), "no issuer starts with 1")
        XCTAssertTrue(Validators.usSSN("536-22-1234"))
        for bad in ["000-12-3456", "666-12-3456", "912-12-3456", "536-00-1234", "536-22-0000", "078-05-1120", "219-09-9999"] {
            XCTAssertFalse(Validators.usSSN(bad), bad)
        }
        for good in ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300"] {
            XCTAssertTrue(Validators.iban(good), good)
        }
        XCTAssertFalse(Validators.iban("DE89 3704 0044 0532 0130 01"), "mod-97")
        XCTAssertFalse(Validators.iban("DE89 3704 0044 0532 0130"), "length for DE")
        XCTAssertFalse(Validators.iban("XX89 3704 0044 0532 0130 00"), "no such country")
    }

    func testCardsWithSeparatorsAndTheirNearMisses() throws {
        let f = try found(["credit_card"], "pay with 4111 1111 1111 1111, or 5500-0000-0000-0004. Ref 41111111111111112222 and 4111 1111 1111 1112.")
        XCTAssertEqual(f.map(\.snippet), ["4111 **** **** 1111", "5500-****-****-0004"])
        XCTAssertEqual(f.first?.offset, 9)
        XCTAssertTrue(try found(["credit_card"], "order A4111111111111111 x").isEmpty, "inside a longer token")
    }

    /// Runs of digits, letters or base64 match the detectors' classes at every byte; only a run's end can be a
    /// value, so vectorscan's matches inside runs are dropped before they cost anything, and a value after
    /// megabytes of them is still found (before, 100,000 such matches ended the scan early).
    func testLongRunsDoNotFloodTheMatchesOrHideALaterValue() throws {
        let all = try engine(Detector.predefined.keys.sorted())
        let digits = String((0..<150_000).map { Character(String($0 % 10)) })
        let base64 = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw", count: 4000)
        let text = digits + "\n" + base64 + "\naws_secret_access_key = " + base64.prefix(200) + "\ncard 4111 1111 1111 1111\n"
        let raw = try all.patterns.scan(Array(text.utf8))
        XCTAssertLessThan(raw.count, 100, "matches inside runs reach the engine: \(raw.count)")
        let f = try all.findings(in: Array(text.utf8), part: "body")
        XCTAssertEqual(f.map(\.detector), ["credit_card"])
    }

    /// Runs of digits and capitals (number dumps, uppercase hex) make a scan redo itself with the runs blanked
    /// (vectorscan's start tracking is slow inside them); values next to the runs are still found, at the
    /// same offsets.
    func testValuesNextToBlankedRunsAreFoundAtTheirOffsets() throws {
        let all = try engine(Detector.predefined.keys.sorted())
        let digits: [Character] = Array("0123456789ABCDEF")
        let hex = String((0..<60_000).map { (i: Int) -> Character in digits[(i * 7 + i / 13) % 16] })
        let text = hex + " DE89 3704 0044 0532 0130 00\n" + String(repeating: "7", count: 5000) + "\tcard 4111 1111 1111 1111."
        let blanked = Array(text.utf8).withUnsafeBytes { PatternSet.blankingLongRuns($0) }
        XCTAssertEqual(blanked.count, text.utf8.count)
        XCTAssertEqual(blanked.prefix(hex.count).filter { $0 != 32 }.count, 0, "the hex run is blanked")
        let f = try all.findings(in: Array(text.utf8), part: "body")
        XCTAssertEqual(f.map(\.detector), ["iban", "credit_card"])
        XCTAssertEqual(f.first?.offset, hex.count + 1)
        XCTAssertEqual(PatternSet.blankingLongRuns(UnsafeRawBufferPointer(start: nil, count: 0)), [])
    }

    func testSSNIBANAndKeys() throws {
        XCTAssertEqual(try found(["us_ssn"], "SSN 536-22-1234; ad 078-05-1120").map(\.snippet), ["***-**-1234"])
        XCTAssertEqual(try found(["iban"], "IBAN: DE89 3704 0044 0532 0130 00 thanks").map(\.detector), ["iban"])
        let keyID = "AKIAIOSFODNN7EXAMPLE"
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        XCTAssertEqual(try found(["aws_access_key_id"], "id=\(keyID)").map(\.snippet), ["AKIA************MPLE"])
        XCTAssertEqual(try found(["aws_secret_access_key"], "aws_secret_access_key = \(secret)").count, 1)
        XCTAssertTrue(try found(["aws_secret_access_key"], "checksum \(secret) in a build log").isEmpty, "no AWS context")
        let pem = try found(["private_key"], "-----BEGIN RSA PRIVATE KEY-----\nMIIE...")
        XCTAssertEqual(pem.map(\.detector), ["private_key"])
    }

    func testEmailPhoneAndJWT() throws {
        XCTAssertEqual(try found(["email_address"], "write to jane.doe@example.com today").map(\.snippet), ["j***@example.com"])
        XCTAssertEqual(try found(["phone_number"], "call (415) 555-2671 or +44 20 7946 0958").count, 2)
        XCTAssertTrue(try found(["phone_number"], "version 123-456-7890").isEmpty, "area codes do not start with 1")
        let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        let payload = Data(#"{"sub":"1234567890","name":"Jane"}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        let jwt = "\(header).\(payload).SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        XCTAssertEqual(try found(["jwt"], "Authorization: Bearer \(jwt)").map(\.detector), ["jwt"])
        XCTAssertTrue(try found(["jwt"], "eyJhbGciOi.eyJzdWIiOi.notajwtatall").isEmpty)
    }

    func testSnippetsNeverHoldTheValue() throws {
        let f = try found(Array(Detector.predefined.keys), "card 4111 1111 1111 1111 ssn 536-22-1234 iban GB82WEST12345698765432")
        for finding in f {
            XCTAssertFalse(finding.snippet.contains("4111 1111 1111 1111"))
            XCTAssertFalse(finding.snippet.contains("536-22-1234"))
            XCTAssertFalse(finding.snippet.contains("12345698765432"))
        }
        XCTAssertEqual(Set(f.map(\.detector)), ["credit_card", "us_ssn", "iban"])
    }
}
