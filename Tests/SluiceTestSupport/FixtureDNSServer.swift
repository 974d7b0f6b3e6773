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

    public init(zone: String) throws {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw FixtureUnavailable(description: "Debian's python3 is missing; `make test` installs python3 and python3-dnslib")
        }
        zoneFile = NSTemporaryDirectory() + "sluice-zone-\(UUID().uuidString).txt"
        try zone.write(toFile: zoneFile, atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("dns/fixture_dns.py").path
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, zoneFile]
        let out = Pipe()
        process.standardOutput = out
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), let b = byte.first, b != 10 { line.append(b) }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            let why = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            // A missing module is a machine without the test packages (skip); anything else is a failure.
            if why.contains("No module named") {
                throw FixtureUnavailable(description: "python3-dnslib is missing; `make test` installs it")
            }
            throw FixtureStartError(description: "the fixture DNS server did not start: \(why)")
        }
        port = p
        // Its query log is kept (and drained, so that a full pipe never blocks the server).
        errors.fileHandleForReading.readabilityHandler = { [log] h in
            let data = h.availableData
            if data.isEmpty { h.readabilityHandler = nil }
            log.append(data)
        }
    }

    /// The queries it answered so far ("query 1.0.0.127.zen.test. A"), in order.
    public var queries: [String] {
        String(decoding: log.data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("query ") }.map(String.init)
    }

    private let log = QueryLog()

    final class QueryLog: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes = Data()
        func append(_ d: Data) { lock.withLock { bytes.append(d) } }
        var data: Data { lock.withLock { bytes } }
    }

    public func stop() {
        // Not waitUntilExit: from a task of an async test it spins on a run loop that never sees the exit.
        if process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: zoneFile)
    }

    deinit { stop() }
}
