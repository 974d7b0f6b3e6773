// SpamdInstance: a private SpamAssassin spamd (Debian's spamd and
// spamassassin, with the rules they ship: nothing is downloaded) on a free
// loopback port, local tests only (`--local`: no DNS or network lookups),
// started and stopped by its PID, with bounded waits. `make test` installs it.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct SpamdUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class SpamdInstance: @unchecked Sendable {
    public let port: Int
    public let directory: String
    let process = Process()

    /// GTUBE, the Generic Test for Unsolicited Bulk Email: SpamAssassin scores it 1000.
    public static let gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/spamd") else {
            throw SpamdUnavailable(description: "Debian's spamd is not installed; `make test` installs it")
        }
        port = freeLoopbackPortForTests()
        directory = NSTemporaryDirectory() + "sluice-spamd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/spamd")
        process.arguments = [
            "--listen=127.0.0.1:\(port)", "--local", "--nouser-config", "--pidfile=\(directory)/spamd.pid", "--helper-home-dir=\(directory)",
            "--max-children=2", "--min-children=1", "--syslog=\(directory)/spamd.log",
        ] + (getuid() == 0 ? ["-u", "nobody"] : [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Bounded wait until it accepts connections (compiling the shipped rules takes a few seconds).
        let deadline = Date().addingTimeInterval(90)
        while !loopbackAccepts(port) && Date() < deadline && process.isRunning { usleep(100_000) }
        guard loopbackAccepts(port) else {
            stop()
            throw SpamdUnavailable(description: "spamd did not start: \(log)")
        }
    }

    public var log: String { (try? String(contentsOfFile: directory + "/spamd.log", encoding: .utf8)) ?? "" }

    /// spamd's parent stops its children on SIGTERM.
    public func stop() { terminateAndWait(process) }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
