// SignedZoneServer: DNSSEC-signed fixture zones served by a real
// authoritative server, NSD (Debian's nsd), on a free loopback port, for the
// DANE tests. Each zone is signed with a key made for it by ldns-keygen and
// ldns-signzone (Debian's ldnsutils): validly, with signatures that expired
// years ago (a validating resolver calls its answers bogus), or not at all.
// The signed zones' keys are the trust anchor file the resolver is given.
// Started and stopped by its PID, with bounded waits; `make test` installs
// nsd and ldnsutils.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct SignedZoneUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class SignedZoneServer: @unchecked Sendable {
    public enum Signing: Sendable {
        case valid, expired, unsigned
    }

    public struct Zone: Sendable {
        public var name: String
        /// Records relative to the zone ($ORIGIN is the zone; SOA and NS are added).
        public var records: String
        public var signing: Signing

        public init(_ name: String, _ signing: Signing, _ records: String) {
            self.name = name
            self.records = records
            self.signing = signing
        }
    }

    public let port: Int
    public let directory: String
    /// DNSKEY records of every signed zone, for `dns.trust_anchor`.
    public var trustAnchor: String { directory + "/trust-anchors.key" }
    let process = Process()

    public init(zones: [Zone]) throws {
        for tool in ["/usr/sbin/nsd", "/usr/bin/ldns-keygen", "/usr/bin/ldns-signzone"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw SignedZoneUnavailable(description: "\(tool) is missing; `make test` installs nsd and ldnsutils")
        }
        directory = NSTemporaryDirectory() + "sluice-nsd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = freeLoopbackPortForTests()
        var anchors = ""
        var conf = """
            server:
              ip-address: 127.0.0.1
              port: \(port)
              username: ""
              chroot: ""
              zonesdir: "\(directory)"
              pidfile: "\(directory)/nsd.pid"
              database: ""
              zonelistfile: "\(directory)/zone.list"
              xfrdfile: "\(directory)/xfrd.state"
              xfrdir: "\(directory)"
              logfile: "\(directory)/nsd.log"
              server-count: 1
              verbosity: 1
            remote-control:
              control-enable: no

            """
        for zone in zones {
            let file = "\(zone.name).zone"
            let text = """
                $ORIGIN \(zone.name).
                $TTL 60
                @ IN SOA ns.\(zone.name). admin.\(zone.name). 1 3600 600 86400 60
                @ IN NS ns.\(zone.name).
                ns IN A 127.0.0.1
                \(zone.records)

                """
            try text.write(toFile: "\(directory)/\(file)", atomically: true, encoding: .utf8)
            var served = file
            if zone.signing != .unsigned {
                let key = try run("/usr/bin/ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", zone.name]).trimmingCharacters(in: .whitespacesAndNewlines)
                // Expired: valid for a month in 2020, so a validating resolver finds every signature out of date.
                let dates = zone.signing == .expired ? ["-i", "20200101000000", "-e", "20200201000000"] : []
                _ = try run("/usr/bin/ldns-signzone", dates + ["-n", file, key])
                served = file + ".signed"
                anchors += try String(contentsOfFile: "\(directory)/\(key).key", encoding: .utf8)
            }
            conf += "zone:\n  name: \(zone.name)\n  zonefile: \(served)\n"
        }
        try anchors.write(toFile: trustAnchor, atomically: true, encoding: .utf8)
        try conf.write(toFile: "\(directory)/nsd.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nsd")
        process.arguments = ["-d", "-c", "\(directory)/nsd.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !loopbackAccepts(port) && Date() < deadline && process.isRunning { usleep(50_000) }
        guard loopbackAccepts(port) else {
            stop()
            throw SignedZoneUnavailable(description: "nsd did not start: \((try? String(contentsOfFile: directory + "/nsd.log", encoding: .utf8)) ?? "")")
        }
    }

    /// Runs a tool in the zone directory; its standard output, or an error with its standard error.
    private func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = directory + "/tool.out"
        let err = directory + "/tool.err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        p.standardOutput = outHandle
        p.standardError = errHandle
        try p.run()
        try outHandle.close()
        try errHandle.close()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        guard !p.isRunning, p.terminationStatus == 0 else {
            if p.isRunning { p.terminate() }
            throw SignedZoneUnavailable(description: "\(tool) \(args.joined(separator: " ")) failed: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }

    public func stop() { terminateAndWait(process) }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
