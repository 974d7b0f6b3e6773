// HAProxyInstance: Debian's haproxy in front of gateway nodes, as the
// deploy/cluster example runs it: TCP mode, PROXY protocol v2 to each node,
// a health check on each node's /readyz, round robin; in the foreground
// from a configuration in a temporary directory, on a loopback port,
// stopped by its PID. `make test` installs it.

import Foundation

public struct HAProxyUnavailable: Error, CustomStringConvertible {
    public var description: String
}

public final class HAProxyInstance: @unchecked Sendable {
    public struct Backend {
        public var name: String
        public var smtpPort: Int
        public var adminPort: Int

        public init(name: String, smtpPort: Int, adminPort: Int) {
            self.name = name
            self.smtpPort = smtpPort
            self.adminPort = adminPort
        }
    }

    public let port: Int
    public let directory: String
    let process = Process()

    public init(backends: [Backend]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/haproxy") else {
            throw HAProxyUnavailable(description: "Debian's haproxy is not installed; `make test` installs it")
        }
        port = freeLoopbackPortForTests()
        directory = NSTemporaryDirectory() + "sluice-haproxy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let servers = backends.map {
            "    server \($0.name) 127.0.0.1:\($0.smtpPort) send-proxy-v2 check port \($0.adminPort) inter 300ms fall 2 rise 1"
        }.joined(separator: "\n")
        try """
            global
                maxconn 2000
            defaults
                mode tcp
                timeout connect 2s
                timeout client 60s
                timeout server 60s
                retries 3
                option redispatch
            frontend smtp
                bind 127.0.0.1:\(port)
                default_backend nodes
            backend nodes
                balance roundrobin
                option httpchk GET /readyz
                http-check expect status 200
            \(servers)

            """.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        process.arguments = ["-db", "-f", directory + "/haproxy.cfg"]
        process.standardOutput = FileHandle.nullDevice
        let log = directory + "/haproxy.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !loopbackAccepts(port) && Date() < deadline && process.isRunning { usleep(20_000) }
        guard loopbackAccepts(port) else {
            stop()
            throw HAProxyUnavailable(description: "haproxy did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    public func stop() { terminateAndWait(process) }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
