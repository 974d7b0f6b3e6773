// Interop with clients nobody here wrote: swaks and Python's smtplib, plain,
// STARTTLS, implicit TLS, pipelining and SMTPUTF8; and the STARTTLS command
// injection check (CVE-2011-0411). `make test` installs swaks and python3.

import Foundation
import XCTest

final class InteropTests: XCTestCase {
    static let interopDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../interop").standardizedFileURL.path

    func tool(_ name: String) throws -> String {
        guard let path = which(name) else {
            throw XCTSkip("\(name) is not installed; `make test` installs it (apt package \(name == "python3" ? "python3" : name))")
        }
        return path
    }

    func testSwaksPlainSTARTTLSPipeliningAndImplicitTLS() throws {
        let swaks = try tool("swaks")
        let d = try DaemonProcess()
        try d.start()
        let relay = "127.0.0.1:\(d.port())"
        let runs: [[String]] = [
            ["--server", relay],
            ["--server", relay, "-tls"],
            ["--server", relay, "--pipeline"],
            ["--server", relay, "-tls", "--pipeline"],
            ["--server", "127.0.0.1:\(d.port("smtps"))", "--tlsc"],
        ]
        for (i, args) in runs.enumerated() {
            let (status, out, err) = try runTool(
                swaks,
                args + ["--from", "app@example.test", "--to", "user\(i)@example.org", "--helo", "swaks.test",
                    "--header", "Message-ID: <swaks-\(i)@test>", "--timeout", "20"])
            XCTAssertEqual(status, 0, "swaks \(args): \(out) \(err)")
            XCTAssertTrue(out.contains("queued as"), out)
            if args.contains("-tls") || args.contains("--tlsc") {
                XCTAssertTrue(out.contains("TLS started") || out.contains("<~"), out)
            }
        }
        let files = d.waitForOutbox(count: runs.count).map { String(decoding: $0, as: UTF8.self) }
        for i in runs.indices { XCTAssertTrue(files.contains { $0.contains("<swaks-\(i)@test>") }, "message \(i) missing") }
        XCTAssertEqual(files.filter { $0.contains("with ESMTPS") }.count, 3)
        XCTAssertTrue(files.contains { $0.contains("(using TLSv1.3 with cipher TLS_") })
    }

    /// The Received: header names the protocol and cipher suite the client negotiated, as swaks (OpenSSL)
    /// reports them, for TLS 1.3 and 1.2, over STARTTLS and implicit TLS (issue 20).
    func testReceivedNamesTheNegotiatedCipherAsTheClientSawIt() throws {
        let swaks = try tool("swaks")
        let d = try DaemonProcess()
        try d.start()
        let runs: [[String]] = [
            ["--server", "127.0.0.1:\(d.port())", "-tls"],
            ["--server", "127.0.0.1:\(d.port())", "-tls", "--tls-protocol", "tlsv1_2"],
            ["--server", "127.0.0.1:\(d.port("smtps"))", "--tlsc"],
        ]
        var expected: [String: String] = [:]
        for (i, args) in runs.enumerated() {
            let (status, out, err) = try runTool(
                swaks, args + ["--from", "app@example.test", "--to", "user@example.org", "--header", "Message-ID: <cipher-\(i)@test>", "--timeout", "20"])
            XCTAssertEqual(status, 0, "swaks \(args): \(out) \(err)")
            // "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256"
            let line = try XCTUnwrap(out.split(separator: "\n").first { $0.contains("TLS started with cipher") }, out)
            let parts = String(line.split(separator: " ").last!).split(separator: ":").map(String.init)
            XCTAssertEqual(parts.count, 3, String(line))
            expected["<cipher-\(i)@test>"] = "(using \(parts[0]) with cipher \(parts[1]) (\(parts[2])/\(parts[2]) bits))"
        }
        XCTAssertTrue(expected.values.contains { $0.contains("TLSv1.2") } && expected.values.contains { $0.contains("TLSv1.3") }, "\(expected)")
        let files = d.waitForOutbox(count: runs.count).map { String(decoding: $0, as: UTF8.self) }
        for (id, received) in expected {
            let file = try XCTUnwrap(files.first { $0.contains(id) }, id)
            XCTAssertTrue(file.contains("\t" + received + "\r\n"), "\(received) not in\n\(file.prefix(400))")
        }
        XCTAssertTrue(d.log().contains("\"tls_cipher\":\"TLS_AES_"), d.log())
    }

    func testPythonSmtplib() throws {
        let python = try tool("python3")
        let d = try DaemonProcess()
        try d.start()
        let modes = [("plain", "relay"), ("starttls", "relay"), ("ssl", "smtps"), ("utf8", "relay")]
        for (mode, listener) in modes {
            let (status, out, err) = try runTool(
                python, ["\(Self.interopDir)/smtplib_send.py", mode, "\(d.port(listener))", "py-\(mode)@test"])
            XCTAssertEqual(status, 0, "\(mode): \(out) \(err)")
        }
        let files = d.waitForOutbox(count: modes.count).map { String(decoding: $0, as: UTF8.self) }
        for (mode, _) in modes {
            XCTAssertTrue(files.contains { $0.contains("<py-\(mode)@test>") }, "\(mode) missing")
        }
        // smtplib dot-stuffs the ".leading" line; Sluice unstuffs it.
        XCTAssertTrue(files.contains { $0.contains("\r\n.leading dot line\r\n") })
    }

    func testSTARTTLSInjectionIsDiscarded() throws {
        let python = try tool("python3")
        let d = try DaemonProcess()
        try d.start()
        let (status, out, err) = try runTool(python, ["\(Self.interopDir)/starttls_injection.py", "\(d.port())"])
        XCTAssertEqual(status, 0, "\(out) \(err)")
    }
}
