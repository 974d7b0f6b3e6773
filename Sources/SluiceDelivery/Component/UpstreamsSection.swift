// The `upstreams:` section (R-DELIVER-1): named pools of SMTP relays a rule
// can `relay:` to, each with its hosts, TLS, a backup pool, AUTH (the
// password read from a file), connections per host and the probe interval.

import Foundation
import SluiceConfig
import SluiceCore

/// `upstreams: { NAME: { hosts: [...], tls: ..., backup: NAME } }`: SMTP relays mail can be sent to.
public struct UpstreamSettings: Sendable {
    public var name: String
    /// `hosts:` "host:port" entries (port 25 when omitted).
    public var hosts: [(host: String, port: Int)]
    /// `tls:` required (verified) | opportunistic | none (default opportunistic).
    public var tls = OutboundTLS.opportunistic
    /// `backup:` the pool used while every host of this one fails.
    public var backup: String?
    /// `auth: { username: U, password_file: PATH }`: AUTH PLAIN/LOGIN to the upstream, the secret read from a file.
    public var username: String?
    public var passwordFile: String?
    /// `max_connections:` connections at once to one host of the pool (default 10).
    public var maxConnections = 10
    /// `probe_interval:` how often a resting host is probed with EHLO/QUIT to bring it back early (default 30s; 0 disables).
    public var probeInterval: Double = 30
}

public struct UpstreamsSection: ConfigSection {
    public static let key = "upstreams"
    public var upstreams: [String: UpstreamSettings] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let u = node else { return }
        for (name, node) in try u.namedEntries() {
            let m = try node.mapping(allowed: ["hosts", "tls", "backup", "auth", "max_connections", "probe_interval"])
            guard let hostsNode = m["hosts"] else { throw node.error("an upstream needs 'hosts:' (host:port, ...)") }
            var up = UpstreamSettings(name: name, hosts: [])
            for h in try hostsNode.list() {
                let text = try h.nonEmptyString()
                if let hp = HostPort.parse(text) {
                    up.hosts.append((host: hp.0, port: hp.1))
                } else if !text.contains(":") || (text.hasPrefix("[") && text.hasSuffix("]")) {
                    up.hosts.append((host: text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: 25))
                } else {
                    throw h.error("expected host or host:port, got '\(text)'")
                }
            }
            guard !up.hosts.isEmpty else { throw hostsNode.error("needs at least one host") }
            if let t = m["tls"] { up.tls = try t.choice(OutboundTLS.self) }
            if let b = m["backup"], !b.isNull { up.backup = try b.nonEmptyString() }
            if let c = m["max_connections"] { up.maxConnections = try c.int(in: 1...1000) }
            if let p = m["probe_interval"] { up.probeInterval = try p.duration() }
            if let a = m["auth"] {
                let auth = try a.mapping(allowed: ["username", "password_file"])
                guard let user = auth["username"], let file = auth["password_file"] else {
                    throw a.error("auth needs 'username:' and 'password_file:' (a file holding the password)")
                }
                up.username = try user.nonEmptyString()
                // With tls: none the password crosses the network in clear: allowed, and the daemon warns.
                up.passwordFile = context.resolve(try file.nonEmptyString())
            }
            upstreams[name] = up
        }
        for (name, node) in try u.namedEntries() {
            if let b = upstreams[name]?.backup, upstreams[b] == nil || b == name {
                throw node.error("backup '\(b)' must name another upstream")
            }
        }
    }
}

extension SluiceConfiguration {
    /// The upstream pools (none when the delivery component is not in the list).
    public var upstreams: [String: UpstreamSettings] { section(UpstreamsSection.self)?.upstreams ?? [:] }
}
