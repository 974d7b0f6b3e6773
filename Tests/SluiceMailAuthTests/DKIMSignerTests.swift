// Signatures made by DKIMSigner (our signer; DKIMSignerParityTests compares it with libopendkim), checked by dkimpy (a
// DKIM implementation nobody here wrote) with the key's TXT record: RSA and
// Ed25519, 8-bit and multipart bodies; a changed body or signed header fails.

import Foundation
import XCTest

@testable import SluiceMailAuth

final class DKIMSignerTests: XCTestCase {
    static let plain = "From: Alice <alice@example.test>\r\nTo: bob@example.org\r\nSubject: Grüße\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <dkim-1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Zürich.\r\n\r\n\r\n"

    static let multipart = "From: alice@example.test\r\nTo: bob@example.org\r\nSubject: report\r\n  folded over two lines\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached   \r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n"

    func split(_ message: String) -> ([UInt8], [UInt8]) {
        let bytes = Array(message.utf8)
        var i = 0
        while i + 3 < bytes.count, !(bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10) { i += 1 }
        return (Array(bytes[..<(i + 4)]), Array(bytes[(i + 4)...]))
    }

    func signed(_ message: String, _ signer: DKIMSigner) throws -> String {
        let (header, body) = split(message)
        let signature = try signer.sign(id: "t", header: header) { feed in
            // Odd chunk sizes: the library must not care where chunks end.
            var i = 0
            while i < body.count {
                try feed(Array(body[i..<min(body.count, i + 7)]))
                i += 7
            }
        }
        XCTAssertFalse(signature.contains("l="), "l= is never used")
        XCTAssertTrue(signature.hasPrefix("DKIM-Signature: v=1;"), signature)
        return signature + "\r\n" + message
    }

    func dkimpy(_ message: String, records: [(DKIMSigner.Key, String)]) throws -> (Int32, String) {
        let dir = NSTemporaryDirectory() + "dkim-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(message.utf8).write(to: URL(fileURLWithPath: dir + "/msg.eml"))
        let zone = records.map { "\($0.0.selector)._domainkey.\($0.0.domain)\t\($0.1)" }.joined(separator: "\n") + "\n"
        try zone.write(toFile: dir + "/keys.txt", atomically: true, encoding: .utf8)
        return try Dkimpy.verify([dir + "/msg.eml", dir + "/keys.txt"])
    }

    func key(_ algorithm: DKIMAlgorithm, selector: String) throws -> (DKIMSigner.Key, String) {
        let pem = try DKIMKeys.generate(algorithm)
        let key = DKIMSigner.Key(domain: "example.test", selector: selector, algorithm: algorithm, privateKeyPEM: pem)
        return (key, try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: algorithm))
    }

    func testRSAAndEd25519SignaturesVerifyWithDkimpy() throws {
        for algorithm in DKIMAlgorithm.allCases {
            let (k, txt) = try key(algorithm, selector: "s1")
            let signer = try DKIMSigner(key: k)
            for message in [Self.plain, Self.multipart] {
                let out = try signed(message, signer)
                let (status, text) = try dkimpy(out, records: [(k, txt)])
                XCTAssertEqual(status, 0, "\(algorithm): \(text)\n\(out)")
                XCTAssertTrue(text.contains("pass d=example.test s=s1 a=\(algorithm.rawValue)"), text)
            }
        }
    }

    func testChangedBodyOrSignedHeaderFails() throws {
        let (k, txt) = try key(.rsaSHA256, selector: "s1")
        let out = try signed(Self.plain, try DKIMSigner(key: k))
        let body = out.replacingOccurrences(of: "Grüße aus Zürich.", with: "Grüße aus Zürich!")
        let header = out.replacingOccurrences(of: "Subject: Grüße", with: "Subject: Grüsse")
        // From is oversigned: a second From added on the way must break the signature too.
        let addedFrom = out.replacingOccurrences(of: "To: bob@example.org\r\n", with: "To: bob@example.org\r\nFrom: mallory@evil.test\r\n")
        for tampered in [body, header, addedFrom] {
            let (status, text) = try dkimpy(tampered, records: [(k, txt)])
            XCTAssertNotEqual(status, 0, text)
            XCTAssertTrue(text.contains("fail"), text)
        }
    }

    func testKeysAndRecords() throws {
        let ed = try DKIMKeys.generate(.ed25519SHA256)
        XCTAssertTrue(ed.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let record = try DKIMKeys.txtRecord(privateKeyPEM: ed, algorithm: .ed25519SHA256)
        XCTAssertTrue(record.hasPrefix("v=DKIM1; k=ed25519; p="))
        XCTAssertEqual(Data(base64Encoded: String(record.dropFirst("v=DKIM1; k=ed25519; p=".count)))?.count, 32)
        XCTAssertThrowsError(try DKIMKeys.txtRecord(privateKeyPEM: ed, algorithm: .rsaSHA256))
        XCTAssertThrowsError(try DKIMKeys.generate(.rsaSHA256, bits: 512))
        let long = String(repeating: "x", count: 600)
        XCTAssertEqual(DKIMKeys.quoted(long), "\"\(String(repeating: "x", count: 250))\" \"\(String(repeating: "x", count: 250))\" \"\(String(repeating: "x", count: 100))\"")
        XCTAssertThrowsError(try DKIMSigner(key: .init(domain: "example.test", selector: "s", algorithm: .rsaSHA256, privateKeyPEM: "not a key")))
    }

    func testHeaderFieldsKeepFolding() {
        let fields = HeaderFields.split(Array("A: 1\r\nB: 2\r\n  more\r\n\tand more\r\nC: 3\r\n\r\n".utf8))
        XCTAssertEqual(fields.map { String(decoding: $0, as: UTF8.self) }, ["A: 1", "B: 2\r\n  more\r\n\tand more", "C: 3"])
    }
}
