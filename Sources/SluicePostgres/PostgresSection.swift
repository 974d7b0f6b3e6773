// PostgresSection: `storage: { backend: postgres, postgres: { url, pool_size,
// password_file, on_unavailable, timeout } }` (SPEC §12, R-DELIVER-7). The
// URL is libpq's (postgres://USER@HOST:PORT/DATABASE?sslmode=...&sslrootcert=...,
// or ?host=/run/postgresql for a unix socket); the password never sits in
// it: it is read from password_file at load, as upstream passwords are, so
// that `sluice check` and the logs cannot show it.

import Foundation
import SluiceConfig

public struct PostgresSection: ConfigSection {
    public static let key = "storage.postgres"

    /// What AUTH throttling and rate limits do while the database cannot be reached.
    public enum Unavailable: String, Sendable, CaseIterable {
        /// Refuse with 4xx: AUTH answers 454 4.7.0 and rate-limited mail is deferred (451 4.7.1) until it is back.
        case failClosed = "fail_closed"
        /// Let the attempt through uncounted, and log it.
        case failOpen = "fail_open"
    }

    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(String)
    }

    /// Whether the section was given (a `backend: postgres` without it is an error where the backend is named).
    public var configured = false
    public var location = ""
    public var endpoint = Endpoint.tcp(host: "127.0.0.1", port: 5432)
    public var user = ""
    public var database = ""
    public var password: String?
    public var tls = TLSMode.prefer
    public var rootCertificate: String?
    public var poolSize = 10
    public var onUnavailable = Unavailable.failClosed
    /// How long an operation waits for the database before it counts as unavailable.
    public var timeout = 5.0
    /// The password file, for the warning about its mode.
    public var passwordFile: String?
    /// The key-encryption key file that seals DKIM private keys in the store (the same file on every node).
    public var kekFile: String?
    /// How often a node reports itself and looks for what other nodes changed (DKIM states, quarantine requests).
    public var refresh = 5.0

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        configured = true
        location = node.location
        let m = try node.mapping(allowed: ["url", "pool_size", "password_file", "on_unavailable", "timeout", "kek_file", "refresh"])
        guard let urlNode = m["url"] else { throw node.error("postgres needs 'url:' (postgres://USER@HOST:PORT/DATABASE)") }
        try readURL(try urlNode.nonEmptyString(), urlNode, context)
        if let n = m["pool_size"] { poolSize = try n.int(in: 1...1000) }
        if let n = m["on_unavailable"] { onUnavailable = try n.choice(Unavailable.self) }
        if let n = m["timeout"] {
            timeout = try n.duration()
            guard timeout > 0, timeout <= 300 else { throw n.error("timeout must be more than 0s and at most 5m") }
        }
        if let n = m["refresh"] {
            refresh = try n.duration()
            guard refresh >= 0.1, refresh <= 300 else { throw n.error("refresh must be between 100ms and 5m") }
        }
        if let n = m["kek_file"] {
            let file = context.resolve(try n.nonEmptyString())
            guard FileManager.default.isReadableFile(atPath: file) else { throw n.error("cannot read the key-encryption key file \(file)") }
            kekFile = file
        }
        if let n = m["password_file"] {
            let file = context.resolve(try n.nonEmptyString())
            guard let data = FileManager.default.contents(atPath: file) else { throw n.error("cannot read the password file \(file)") }
            let first = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !first.isEmpty else { throw n.error("the password file \(file) is empty") }
            password = first
            passwordFile = file
        }
    }

    mutating func readURL(_ text: String, _ node: ConfigNode, _ context: ConfigContext) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["postgres", "postgresql"].contains(scheme) else {
            throw node.error("expected a URL such as postgres://sluice@db.example:5432/sluice, got '\(text)'")
        }
        guard url.password == nil else {
            throw node.error("the URL holds a password; put it in password_file: instead (a URL is shown by sluice check and in logs)")
        }
        guard let u = url.user, !u.isEmpty else { throw node.error("the URL needs a user name (postgres://USER@HOST/DATABASE)") }
        user = u.removingPercentEncoding ?? u
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        guard !database.contains("/") else { throw node.error("the URL's path is the database name, got '\(path)'") }
        if let p = url.port, !(1...65535).contains(p) { throw node.error("port \(p) is out of range") }
        let port = url.port ?? 5432
        var socketDirectory: String?
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw node.error("sslmode must be one of disable, prefer, require, verify-full; got '\(value)'")
                }
                tls = mode
            case "sslrootcert":
                let file = context.resolve(value)
                guard FileManager.default.isReadableFile(atPath: file) else { throw node.error("cannot read sslrootcert \(file)") }
                rootCertificate = file
            case "host" where value.hasPrefix("/"):
                socketDirectory = value
            default:
                throw node.error("unknown URL parameter '\(item.name)' (known: sslmode, sslrootcert, host=/socket/directory)")
            }
        }
        if let dir = socketDirectory {
            guard url.host == nil || url.host == "" else { throw node.error("give either a host or ?host=/socket/directory, not both") }
            endpoint = .unixSocket("\(dir)/.s.PGSQL.\(port)")
        } else {
            guard let host = url.host, !host.isEmpty else { throw node.error("the URL needs a host (or ?host=/socket/directory)") }
            endpoint = .tcp(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port)
        }
        if tls == .verifyFull, case .unixSocket = endpoint { throw node.error("sslmode=verify-full needs a host, not a unix socket") }
    }

    /// "postgres://sluice@db.example:5432/sluice" without the password: for `check`, `status` and logs.
    public var displayURL: String {
        switch endpoint {
        case .tcp(let host, let port): return "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        case .unixSocket(let path): return "postgres://\(user)@/\(database)?host=\((path as NSString).deletingLastPathComponent)"
        }
    }
}
