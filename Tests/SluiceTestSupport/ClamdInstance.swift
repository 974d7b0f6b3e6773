// ClamdInstance: a private clamd (Debian's clamav-daemon) for tests: its own
// configuration, socket and signature database in a temporary directory — the
// database is one signature written here (the EICAR test string, as an .ndb
// body signature), so nothing is downloaded — started in the foreground and
// stopped by its PID, with bounded waits. `make test` installs it.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct ClamdUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class ClamdInstance: @unchecked Sendable {
    public let directory: String
    public var socket: String { directory + "/clamd.sock" }
    let process = Process()

    /// The EICAR anti-virus test string (eicar.org), which the test database knows as "Sluice-Test-Eicar".
    public static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/clamd") else {
            throw ClamdUnavailable(description: "Debian's clamav-daemon is not installed; `make test` installs it")
        }
        directory = NSTemporaryDirectory() + "sluice-clamd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/db", withIntermediateDirectories: true)
        let hex = Self.eicar.utf8.map { String(format: "%02x", $0) }.joined()
        try "Sluice-Test-Eicar:0:*:\(hex)\n".write(toFile: directory + "/db/sluice-test.ndb", atomically: true, encoding: .utf8)
        try """
            LocalSocket \(directory)/clamd.sock
            DatabaseDirectory \(directory)/db
            Foreground yes
            LogFile \(directory)/clamd.log
            PidFile \(directory)/clamd.pid
            StreamMaxLength 25M

            """.write(toFile: directory + "/clamd.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/clamd")
        process.arguments = ["-c", directory + "/clamd.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Bounded wait for its socket (the one-signature database loads in about a second).
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline && process.isRunning { usleep(50_000) }
        guard FileManager.default.fileExists(atPath: socket) else {
            stop()
            throw ClamdUnavailable(description: "clamd did not start: \(log)")
        }
    }

    public var log: String { (try? String(contentsOfFile: directory + "/clamd.log", encoding: .utf8)) ?? "" }

    public func stop() {
        terminateAndWait(process)
        try? FileManager.default.removeItem(atPath: socket)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
