// Starts Tests/dns/fixture_dns.py (Debian's python3 with python3-dnslib) on a
// free loopback port with the zone text a test gives, and stops it. Shared by
// the resolver tests and the integration tests.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct FixtureUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public struct FixtureStartError: Error, CustomStringConvertible {
    public var description: String
}

public final class FixtureDNSServer: @unchecked Sendable {
    let process = Process()
    public let port: Int
    let zoneFile: String
    /// Its stderr: the query log. A file, not a pipe read by a readabilityHandler: that handler is a
    /// Dispatch read source on the pipe, and a pipe closed while the source still watches it crashed
    /// the test process inside libdispatch's event loop (seen once in CI).
    let logFile: String

    public init(zone: String) throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw FixtureUnavailable(description: "Debian's python3 is missing; `make test` installs python3 and python3-dnslib")
        }
        let name = UUID().uuidString
        zoneFile = NSTemporaryDirectory() + "sluice-zone-\(name).txt"
        logFile = NSTemporaryDirectory() + "sluice-zone-\(name).log"
        try zone.write(toFile: zoneFile, atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("dns/fixture_dns.py").path
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, zoneFile]
        let out = Pipe()
        process.standardOutput = out
        guard FileManager.default.createFile(atPath: logFile, contents: nil),
              let errors = FileHandle(forWritingAtPath: logFile) else {
            throw FixtureStartError(description: "cannot create \(logFile)")
        }
        process.standardError = errors
        defer { try? errors.close() }
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), let b = byte.first, b != 10 { line.append(b) }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(20_000) }  // its last words reach the file
            let why = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "(its error output could not be read)"
            // A missing module is a machine without the test packages (skip); anything else is a failure.
            if why.contains("No module named") {
                throw FixtureUnavailable(description: "python3-dnslib is missing; `make test` installs it")
            }
            throw FixtureStartError(description: "the fixture DNS server did not start: \(why)")
        }
        port = p
    }

    /// The queries it answered so far ("query 1.0.0.127.zen.test. A"), in order.
    public var queries: [String] {
        let data = FileManager.default.contents(atPath: logFile) ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("query ") }.map(String.init)
    }

    public func stop() {
        terminateAndWait(process)
        try? FileManager.default.removeItem(atPath: zoneFile)
        try? FileManager.default.removeItem(atPath: logFile)
    }

    deinit { stop() }
}
