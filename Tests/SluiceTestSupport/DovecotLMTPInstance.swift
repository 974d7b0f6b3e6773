// DovecotLMTPInstance: a private Dovecot (Debian's dovecot-core and
// dovecot-lmtpd) speaking LMTP on a unix socket in a temp dir, with Maildir
// users from a passwd-file (the domain is stripped: alice@example.org is
// alice), started in the foreground and stopped by its PID, with bounded
// waits. It can be stopped and started again on the same directory, as a
// mail store that goes away for a while. `make test` installs it.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct DovecotUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class DovecotLMTPInstance: @unchecked Sendable {
    public let directory: String
    public var socket: String { directory + "/lmtp" }
    private var process: Process?

    public init(users: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot"),
            FileManager.default.fileExists(atPath: "/usr/lib/dovecot/lmtp")
        else { throw DovecotUnavailable(description: "Debian's dovecot-core and dovecot-lmtpd are not installed; `make test` installs them") }
        directory = NSTemporaryDirectory() + "sluice-dovecot-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        // Mail is written as nobody when the test runs as root, else as the test's own user.
        let (uid, gid) = getuid() == 0 ? (65534, 65534) : (Int(getuid()), Int(getgid()))
        let config = """
            protocols = lmtp
            base_dir = \(directory)/run
            state_dir = \(directory)/state
            log_path = \(directory)/dovecot.log
            ssl = no
            listen = 127.0.0.1
            default_internal_user = \(getuid() == 0 ? "dovecot" : String(cString: getpwuid(getuid()).pointee.pw_name))
            default_login_user = \(getuid() == 0 ? "dovenull" : String(cString: getpwuid(getuid()).pointee.pw_name))
            first_valid_uid = 1
            mail_location = maildir:\(directory)/mail/%n/Maildir
            auth_username_format = %Ln
            passdb {
              driver = passwd-file
              args = \(directory)/users
            }
            userdb {
              driver = passwd-file
              args = \(directory)/users
              default_fields = uid=\(uid) gid=\(gid) home=\(directory)/mail/%n
            }
            service lmtp {
              unix_listener \(directory)/lmtp {
                mode = 0666
              }
            }

            """
        try config.write(toFile: directory + "/dovecot.conf", atomically: true, encoding: .utf8)
        try users.map { "\($0):{PLAIN}unused::::::\n" }.joined().write(toFile: directory + "/users", atomically: true, encoding: .utf8)
        try start()
    }

    /// Starts Dovecot and waits (bounded) until its LMTP socket accepts a connection.
    public func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/dovecot")
        p.arguments = ["-F", "-c", directory + "/dovecot.conf"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(30)
        while !accepts() && Date() < deadline && p.isRunning { usleep(50_000) }
        guard accepts() else {
            stop()
            throw DovecotUnavailable(description: "dovecot did not start: \(log)")
        }
    }

    public var log: String { (try? String(contentsOfFile: directory + "/dovecot.log", encoding: .utf8)) ?? "" }

    /// The messages in a user's Maildir (new/ and cur/), as bytes.
    public func messages(of user: String) -> [Data] {
        ["new", "cur"].flatMap { sub -> [Data] in
            let dir = "\(directory)/mail/\(user)/Maildir/\(sub)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            return names.sorted().compactMap { FileManager.default.contents(atPath: "\(dir)/\($0)") }
        }
    }

    func accepts() -> Bool {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socket.utf8CString)
        guard path.count <= MemoryLayout.size(ofValue: addr.sun_path) else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, c) in path.enumerated() { raw[i] = UInt8(bitPattern: c) }
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// Stops Dovecot (SIGTERM to the master, which ends its children) and waits until its socket is gone.
    public func stop() {
        guard let p = process, p.isRunning else { return }
        terminateAndWait(p)
        for _ in 0..<200 where accepts() { usleep(25_000) }
        process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
