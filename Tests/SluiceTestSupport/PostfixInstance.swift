// PostfixInstance: a private Postfix (Debian's postfix package) for tests: its
// own configuration and queue under a temporary directory, smtpd on a
// loopback port only, started with `postfix -c DIR start` and stopped by its
// master's PID, with bounded waits. Tests use it as the remote a delivery
// talks to: what it answers (250, 450, 550 5.1.1 ...) is a real server's.
// Needs root, as Postfix drops privileges itself; `make test` installs it.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct PostfixUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class PostfixInstance: @unchecked Sendable {
    public let port: Int
    public let directory: String

    /// `mainCF`: lines added to the main.cf (what it accepts, rejects and does with mail); `files`: files written into
    /// the instance's etc/ first (a certificate, a map).
    public init(mainCF: String, files: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/postfix") else {
            throw PostfixUnavailable(description: "Debian's postfix is not installed; `make test` installs it")
        }
        guard getuid() == 0 else { throw PostfixUnavailable(description: "a private Postfix needs root") }
        port = freeLoopbackPortForTests()
        directory = NSTemporaryDirectory() + "sluice-postfix-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        for sub in ["etc", "queue", "data"] { try fm.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true) }
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        _ = try Self.run("/bin/chown", ["postfix", "\(directory)/data"])
        for (name, text) in files { try text.write(toFile: "\(directory)/etc/\(name)", atomically: true, encoding: .utf8) }
        // Debian's master.cf with every service out of the chroot (the private queue has no copy of /etc) and smtpd on
        // the loopback port only.
        let master = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                guard !line.hasPrefix("#"), !line.hasPrefix(" "), !line.hasPrefix("\t") else { return String(line) }
                var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard fields.count >= 8 else { return String(line) }
                if fields[0] == "smtp" && fields[1] == "inet" { fields[0] = "127.0.0.1:\(port)" }
                fields[4] = "n"
                return fields.joined(separator: " ")
            }.joined(separator: "\n")
        try master.write(toFile: "\(directory)/etc/master.cf", atomically: true, encoding: .utf8)
        try """
            compatibility_level = 3.6
            queue_directory = \(directory)/queue
            data_directory = \(directory)/data
            maillog_file_prefixes = /tmp
            maillog_file = \(directory)/maillog
            myhostname = postfix.sluice.test
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            alias_maps =
            alias_database =
            biff = no
            \(mainCF)

            """.write(toFile: "\(directory)/etc/main.cf", atomically: true, encoding: .utf8)
        let (status, out) = try Self.run("/usr/sbin/postfix", ["-c", "\(directory)/etc", "start"])
        guard status == 0 else { throw PostfixUnavailable(description: "postfix start failed: \(out)") }
        for _ in 0..<200 {
            if loopbackAccepts(port) { return }
            usleep(50_000)
        }
        stop()
        throw PostfixUnavailable(description: "the private postfix did not listen on \(port) within 10 s: \(log)")
    }

    /// What it logged (its maillog).
    public var log: String { (try? String(contentsOfFile: "\(directory)/maillog", encoding: .utf8)) ?? "" }

    public func stop() {
        _ = try? Self.run("/usr/sbin/postfix", ["-c", "\(directory)/etc", "stop"])
        let pid = "\(directory)/queue/pid/master.pid"
        for _ in 0..<100 where FileManager.default.fileExists(atPath: pid) { usleep(50_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func run(_ path: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

}

/// Stops a server a test started: SIGTERM, up to 5 s for it to exit (polled, never waitUntilExit: from a task of an
/// async test that spins on a run loop that never sees the exit), then SIGKILL.
public func terminateAndWait(_ process: Process) {
    guard process.isRunning else { return }
    process.terminate()
    for _ in 0..<200 where process.isRunning { usleep(25_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port` now (a server started by a test is up).
public func loopbackAccepts(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// A loopback port nobody listens on right now.
public func freeLoopbackPortForTests() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}
