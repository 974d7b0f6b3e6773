// ScannerConnection: one connection to a scanner daemon (clamd, spamd), over
// a unix socket or TCP, with the scanner's timeout on connect, every write
// and every read (SO_SNDTIMEO, SO_RCVTIMEO). Blocking calls: the scan stages
// run them on the file pool, never on the event loops.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

final class ScannerConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let fd: Int32

    init(_ endpoint: ScannerEndpoint) throws {
        fd = try Self.connect(endpoint)
    }

    deinit { close(fd) }

    private static func connect(_ endpoint: ScannerEndpoint) throws -> Int32 {
        switch endpoint.address {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            setTimeouts(fd, endpoint.timeout)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
                close(fd)
                throw Failure(description: "socket path too long: \(path)")
            }
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard r == 0 else {
                let e = errno
                close(fd)
                throw Failure(description: "cannot connect to \(path): \(String(cString: strerror(e)))")
            }
            return fd
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
                throw Failure(description: "cannot resolve \(host)")
            }
            defer { freeaddrinfo(list) }
            let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            setTimeouts(fd, endpoint.timeout)
            guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                let e = errno
                close(fd)
                throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(e)))")
            }
            return fd
        }
    }

    private static func setTimeouts(_ fd: Int32, _ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Every byte, within the timeout of each call.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                throw Failure(description: errno == EAGAIN ? "timed out sending to the scanner" : "the scanner closed the connection (errno \(errno))")
            }
            offset += n
        }
    }

    /// Streams the first `length` bytes of the file at `path`, in 64 KiB chunks, each framed by `frame`.
    func send(file path: String, length: Int, frame: ([UInt8]) -> [UInt8] = { $0 }) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw Failure(description: "spool file missing") }
        defer { try? file.close() }  // a read-only handle: closing it cannot lose data, and the scan's answer stands
        var remaining = length
        while remaining > 0, let data = try file.read(upToCount: min(64 << 10, remaining)), !data.isEmpty {
            try send(frame([UInt8](data)))
            remaining -= data.count
        }
    }

    /// Everything until the scanner closes the connection, or sends `terminator` (at most `limit` bytes), within the
    /// timeout.
    func receiveAll(limit: Int = 1 << 20, terminator: UInt8? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < limit, terminator.map({ !out.contains($0) }) ?? true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: errno == EAGAIN ? "the scanner did not answer in time" : "recv: errno \(errno)") }
            out += chunk[..<n]
        }
        return out
    }
}
