// PostgresInstance: a private PostgreSQL server (Debian's postgresql) for
// tests: initdb in a temporary directory (as the postgres user when the
// tests run as root: the server refuses root), password authentication
// (scram-sha-256, so the password file path is the one users take), on a
// loopback port and a socket in that directory; started in the foreground,
// stopped by its PID, with bounded waits. `make test` installs it.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct PostgresUnavailable: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

public final class PostgresInstance: @unchecked Sendable {
    public let directory: String
    public let port: Int
    public let user = "sluice"
    public let password = "pg-test-\(UUID().uuidString.prefix(8))"
    /// A file holding the password, for `storage.postgres.password_file`.
    public var passwordFile: String { directory + "/client-password" }
    let bin: String
    private(set) var process = Process()

    /// The newest PostgreSQL of the machine (/usr/lib/postgresql/N/bin).
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let v = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/postgres") else {
            throw PostgresUnavailable(description: "Debian's postgresql is not installed; `make test` installs it")
        }
        return "\(root)/\(v)/bin"
    }

    public init() throws {
        bin = try Self.binaries()
        directory = NSTemporaryDirectory() + "sluice-pg-\(UUID().uuidString.prefix(8))"
        port = freeLoopbackPortForTests()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try password.write(toFile: directory + "/server-password", atomically: true, encoding: .utf8)
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        chmod(passwordFile, 0o600)
        if getuid() == 0 { try Self.run("/bin/chown", ["-R", "postgres:postgres", directory]) }
        try Self.run(
            "\(bin)/initdb",
            ["-D", directory + "/data", "-U", user, "--auth=scram-sha-256", "--pwfile=\(directory)/server-password", "-E", "UTF8", "--no-locale"],
            asPostgres: true)
        try start()
    }

    /// Starts the server (again, after `stop`) and waits until it answers.
    public func start() throws {
        process = Process()
        let (exe, args) = Self.command(
            "\(bin)/postgres",
            [
                "-D", directory + "/data", "-p", "\(port)", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(directory)",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
            ], asPostgres: true)
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        let log = directory + "/server.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            if (try? query("SELECT 1", database: "postgres")) != nil { return }
            usleep(100_000)
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        stop()
        throw PostgresUnavailable(description: "postgres did not start: \(text.suffix(2000))")
    }

    /// Stops the server (SIGTERM: a smart shutdown, then a bounded wait, then SIGKILL).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGINT)  // fast shutdown: ends open sessions (the daemon's pool) at once
        for _ in 0..<400 where process.isRunning { usleep(25_000) }
        terminateAndWait(process)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `postgres://sluice@127.0.0.1:PORT/DATABASE?sslmode=disable`.
    public func url(_ database: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// A new, empty database.
    public func createDatabase(_ name: String) throws {
        _ = try query("CREATE DATABASE \"\(name)\"", database: "postgres")
    }

    /// Runs SQL through psql; returns what it printed (unaligned, tuples only).
    @discardableResult
    public func query(_ sql: String, database: String) throws -> String {
        try Self.run(
            "\(bin)/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-c", sql],
            environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
    }

    static func command(_ exe: String, _ args: [String], asPostgres: Bool) -> (String, [String]) {
        guard asPostgres, getuid() == 0 else { return (exe, args) }
        // setpriv execs the program itself: the PID is the server's, and signals reach it.
        return ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--", exe] + args)
    }

    @discardableResult
    static func run(_ exe: String, _ args: [String], asPostgres: Bool = false, environment: [String: String] = [:]) throws -> String {
        let p = Process()
        let (e, a) = command(exe, args, asPostgres: asPostgres)
        p.executableURL = URL(fileURLWithPath: e)
        p.arguments = a
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-pg-out-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out) }
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else {
            throw PostgresUnavailable(description: "\((exe as NSString).lastPathComponent) failed (\(p.terminationStatus)): \(text.suffix(1500))")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
