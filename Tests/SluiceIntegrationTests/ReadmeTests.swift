// The README as a test (issue 20): the commands of "An administrator's first
// hour" run line by line against a temporary instance made from the shipped
// etc/sluice.yaml and rules/, and every command and option the "Using it"
// synopsis lists exists in the CLI. A README that drifts from the binary fails.

import Foundation
import XCTest

final class ReadmeTests: XCTestCase {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// The indented lines of the first code block after `heading`, continuation lines joined.
    static func block(after heading: String) throws -> [String] {
        let readme = try String(contentsOfFile: checkout + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "\n" + heading + "\n") else { throw XCTSkip("README has no \(heading)") }
        var lines: [String] = []
        var inBlock = false
        for line in readme[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("    ") {
                inBlock = true
                let text = String(line.dropFirst(4))
                if let last = lines.last, last.hasSuffix("\\") {
                    lines[lines.count - 1] = String(last.dropLast()) + " " + text.trimmingCharacters(in: .whitespaces)
                } else {
                    lines.append(text)
                }
            } else if inBlock && !line.isEmpty {
                break
            } else if line.hasPrefix("#") {
                break
            }
        }
        return lines
    }

    func testTheFirstHourRunsAgainstAnInstanceOfTheShippedConfiguration() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") else { throw XCTSkip("swaks missing; make test installs it") }
        // The shipped configuration on free ports.
        var config = try String(contentsOfFile: Self.checkout + "/etc/sluice.yaml", encoding: .utf8)
        for port in ["2525", "2587", "2465", "9325"] {
            config = config.replacingOccurrences(of: "127.0.0.1:\(port)", with: "127.0.0.1:0")
        }
        let d = try DaemonProcess(configText: config, rulesFrom: Self.checkout + "/rules")
        let (keyStatus, _, keyErr) = try d.cli(["dkim", "keygen", "--domain", "example.test", "--selector", "s1"])  // what make run does
        XCTAssertEqual(keyStatus, 0, keyErr)
        try d.start()
        defer { _ = d.stop() }

        let lines = try Self.block(after: "### An administrator's first hour")
        XCTAssertGreaterThan(lines.count, 10, "\(lines)")
        let bin = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent().path
        var sent = 0
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let command = line.replacingOccurrences(of: "127.0.0.1:2525", with: "127.0.0.1:\(d.port("relay"))")
            let (status, out, err) = try runTool(
                "/bin/bash", ["-c", "export PATH='\(bin)':\"$PATH\"\n" + command], timeout: 60, currentDirectory: d.root)
            XCTAssertEqual(status, 0, "README line failed: \(line)\n\(out)\(err)\n\(d.log().suffix(2000))")
            if line.hasPrefix("swaks") {
                // The next lines read the queue and the archive: wait until the message is in both places it goes.
                sent += 1
                XCTAssertEqual(d.waitForOutbox(count: sent).count, sent, d.log())
                XCTAssertTrue(waitUntil {
                    let (s, o, _) = (try? d.cli(["archive", "search", "--json"])) ?? (1, "", "")
                    return s == 0 && o.contains("\"total\" : \(sent)")
                }, d.log())
            }
            if line.hasPrefix("sluice rules test") { XCTAssertTrue(out.contains("block-card-numbers"), out) }
            if line.hasPrefix("sluice archive search --text") { XCTAssertTrue(out.contains("quarterly report"), out) }
        }
        XCTAssertGreaterThan(sent, 0, "the walkthrough sends a message")
        XCTAssertTrue(FileManager.default.fileExists(atPath: d.root + "/app.mbox"))
    }

    func testEveryCommandAndOptionOfTheSynopsisExists() throws {
        let lines = try Self.block(after: "## Using it")
        var checked = 0
        var command: [String] = []
        for line in lines {
            let code = line.components(separatedBy: "  #").first ?? line
            let words = code.split(separator: " ").map(String.init)
            if words.first == "sluice" {
                // The command path: words up to the first argument, option or placeholder; "a|b" are two commands.
                command = Array(words.dropFirst().prefix { $0.range(of: "^[a-z]+(\\|[a-z]+)*$", options: .regularExpression) != nil })
            } else if !(words.first.map { $0.hasPrefix("[") || $0.hasPrefix("--") } ?? false) {
                continue  // a comment line of the block
            }
            guard !command.isEmpty else { continue }
            let options = Set(words.compactMap { w -> String? in
                guard let r = w.range(of: "--[a-z][a-z-]*", options: .regularExpression) else { return nil }
                return String(w[r])
            })
            let alternatives = command.last!.split(separator: "|").map(String.init)
            for last in alternatives {
                let path = command.dropLast() + [last]
                let (status, out, err) = try runTool(DaemonProcess.binary, Array(path) + ["--help"])
                XCTAssertEqual(status, 0, "sluice \(path.joined(separator: " ")) --help: \(err)")
                for option in options where !out.contains(option) {
                    XCTFail("README lists \(option) for sluice \(path.joined(separator: " ")), which its --help does not know:\n\(out)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 30, "the synopsis lists the CLI's commands")
    }
}
