// The upstream pools of a runtime: hosts, TLS policy, backup, and the AUTH
// password read from its file (first line). A file that cannot be read is an
// error of the runtime (the reload is refused, the start does not happen); a
// file others can read, or a password sent without TLS, is a warning.

import Foundation
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceSMTP

/// The upstream pools of one runtime, with their passwords read.
public struct UpstreamPools: Sendable {
    public let pools: [UpstreamPool]

    static func load(_ config: SluiceConfiguration, warnings: inout [String]) throws -> UpstreamPools {
        var pools: [UpstreamPool] = []
        for u in config.upstreams.values.sorted(by: { $0.name < $1.name }) {
            pools.append(
                UpstreamPool(
                    name: u.name, hosts: u.hosts.map { SMTPClient.Endpoint(host: $0.host, port: $0.port) }, tls: u.tls,
                    backup: u.backup, credentials: try credentials(u, warnings: &warnings), maxConnections: u.maxConnections,
                    probeInterval: u.probeInterval))
        }
        return UpstreamPools(pools: pools)
    }

    static func credentials(_ u: UpstreamSettings, warnings: inout [String]) throws -> ClientCredentials? {
        guard let user = u.username, let file = u.passwordFile else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RuntimeError("upstream \(u.name): cannot read password_file \(file)")
        }
        let password = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !password.isEmpty else { throw RuntimeError("upstream \(u.name): password_file \(file) is empty") }
        // The file was just read; its mode only decides a warning, and so does a mode that cannot be read.
        do {
            if let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int, mode & 0o077 != 0 {
                warnings.append("upstream \(u.name): password file \(file) is readable by others; chmod 600 it")
            }
        } catch {
            warnings.append("upstream \(u.name): cannot check who may read password file \(file): \(error)")
        }
        if u.tls == .none {
            warnings.append("upstream \(u.name): auth with tls: none sends the password in clear")
        }
        return ClientCredentials(username: user, password: password)
    }
}
