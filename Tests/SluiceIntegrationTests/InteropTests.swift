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
        XCTAssertTrue(files.contains { $0.contains("(using TLSv1.3)") })
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
