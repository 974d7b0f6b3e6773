// Verification through libopendkim with keys from the resolver component:
// a dkimpy signature passes, a tampered message fails, a selector without a
// key is a permerror, DNS trouble a temperror, and our own Ed25519 and RSA
// signatures verify side by side.

import Foundation
import SluiceCore
import SluiceDNS
import SluiceTestSupport
import XCTest

@testable import SluiceMailAuth

final class DKIMVerifierTests: XCTestCase {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../interop").standardizedFileURL.path

    func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
        var i = 0
        while i + 3 < bytes.count, !(bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10) { i += 1 }
        return (Array(bytes[..<(i + 4)]), Array(bytes[(i + 4)...]))
    }

    func verify(_ message: [UInt8], zone: String) async throws -> [DKIMResult] {
        let dns: FixtureDNSServer
        do { dns = try FixtureDNSServer(zone: zone) } catch let e as FixtureUnavailable { throw XCTSkip(e.description) }
        defer { dns.stop() }
        let resolver = try UnboundResolver(nameserver: .address("127.0.0.1", port: dns.port), timeout: 2)
        let verifier = try DKIMVerifier(resolver: resolver)
        let (header, body) = split(message)
        let keys = await verifier.fetchKeys(header: header)
        return try verifier.verify(id: "t", header: header, keys: keys) { try $0(body) }
    }

    func zone(_ records: [(String, String)]) -> String {
        "$ORIGIN test.\n$TTL 60\n" + records.map { "\($0.0). IN TXT \(DKIMKeys.quoted($0.1))" }.joined(separator: "\n") + "\n"
    }

    func dkimpySigned(_ message: String, keyPEM: String) throws -> [UInt8] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("python3 missing") }
        let dir = NSTemporaryDirectory() + "dkv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(message.utf8).write(to: URL(fileURLWithPath: dir + "/m.eml"))
        try keyPEM.write(toFile: dir + "/k.pem", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Self.interop + "/dkim_sign.py", dir + "/m.eml", dir + "/k.pem", "example.test", "py"]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if e.contains("No module named 'dkim'") { throw XCTSkip("python3-dkim missing") }
        XCTAssertEqual(p.terminationStatus, 0, e)
        return [UInt8](data)
    }

    let message = "From: a@example.test\r\nTo: b@example.org\r\nSubject: verify me\r\n\r\nbody line\r\n"

    func testDkimpySignaturePassesAndTamperingFails() async throws {
        let pem = try DKIMKeys.generate(.rsaSHA256)
        let record = try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: .rsaSHA256)
        let signed = try dkimpySigned(message, keyPEM: pem)
        let z = zone([("py._domainkey.example.test", record)])
        let good = try await verify(signed, zone: z)
        XCTAssertEqual(good.map(\.verdict), [.pass], "\(good)")
        XCTAssertEqual(good.first?.domain, "example.test")
        XCTAssertEqual(good.first?.selector, "py")
        let tampered = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "body line", with: "body lime").utf8)
        let bad = try await verify(tampered, zone: z)
        XCTAssertEqual(bad.map(\.verdict), [.fail], "\(bad)")
    }

    func testMissingKeyIsPermerrorAndDNSTroubleTemperror() async throws {
        let pem = try DKIMKeys.generate(.rsaSHA256)
        let signed = try dkimpySigned(message, keyPEM: pem)
        let none = try await verify(signed, zone: zone([("other._domainkey.example.test", "v=DKIM1; p=")]))
        XCTAssertEqual(none.map(\.verdict), [.permerror], "\(none)")
        // The same signature claiming a domain whose DNS fails.
        let servfail = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "example.test", with: "x.servfail.test").utf8)
        let temp = try await verify(servfail, zone: zone([]))
        XCTAssertEqual(temp.map(\.verdict), [.temperror], "\(temp)")
    }

    func testOurDualSignaturesVerify() async throws {
        var records: [(String, String)] = []
        var signers: [DKIMSigner] = []
        for (alg, sel) in [(DKIMAlgorithm.rsaSHA256, "r1"), (.ed25519SHA256, "e1")] {
            let pem = try DKIMKeys.generate(alg)
            records.append(("\(sel)._domainkey.example.test", try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: alg)))
            signers.append(try DKIMSigner(key: .init(domain: "example.test", selector: sel, algorithm: alg, privateKeyPEM: pem)))
        }
        let (header, body) = split(Array(message.utf8))
        let sigs = try signers.map { s in try s.sign(id: "t", header: header) { try $0(body) } }
        let signed = Array((sigs.joined(separator: "\r\n") + "\r\n").utf8) + Array(message.utf8)
        let results = try await verify(signed, zone: zone(records))
        XCTAssertEqual(Set(results.map { "\($0.verdict) \($0.selector) \($0.algorithm)" }), ["pass r1 rsa-sha256", "pass e1 ed25519-sha256"])
        XCTAssertTrue(results.allSatisfy { $0.signaturePrefix.count >= 8 }, "\(results)")
    }

    func testTagParsing() {
        let tags = DKIMTags.parse(" v=1; a=rsa-sha256; d=Example.test;\r\n\t s=s1; b=abc\r\n def ")
        XCTAssertEqual(tags["d"], "Example.test")
        XCTAssertEqual(tags["b"], "abcdef")
        XCTAssertEqual(tags["s"], "s1")
    }
}
