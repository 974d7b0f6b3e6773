// ClamdClient: clamd's INSTREAM command (clamd(8)): the message streamed in
// chunks, each prefixed by its length (4 bytes, network order), then a
// zero-length chunk; clamd answers "stream: OK", "stream: NAME FOUND" or an
// ERROR. One connection per message, over a unix socket or TCP, with the
// scanner's timeout on connect, every write and the reply. Blocking calls:
// run it on a thread pool, never on the event loops.

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

enum ClamdAnswer: Equatable {
    case clean
    case infected(String)
}

struct ClamdClient {
    let endpoint: ScannerEndpoint

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Streams the first `length` bytes of the file at `path`.
    func scan(path: String, length: Int) throws -> ClamdAnswer {
        let fd = try connect()
        defer { close(fd) }
        try send(fd, Array("zINSTREAM\0".utf8))
        guard let file = FileHandle(forReadingAtPath: path) else { throw Failure(description: "spool file missing") }
        defer { try? file.close() }
        var remaining = length
        while remaining > 0, let data = try file.read(upToCount: min(64 << 10, remaining)), !data.isEmpty {
            var chunk = withUnsafeBytes(of: UInt32(data.count).bigEndian) { Array($0) }
            chunk += data
            try send(fd, chunk)
            remaining -= data.count
        }
        try send(fd, [0, 0, 0, 0])
        return try Self.parse(try reply(fd))
    }

    /// "stream: OK" / "stream: Eicar-Signature FOUND" / "... ERROR".
    static func parse(_ reply: String) throws -> ClamdAnswer {
        let text = reply.trimmingCharacters(in: CharacterSet(charactersIn: "\0\n "))
        if text.hasPrefix("stream:"), text.hasSuffix(" FOUND") {
            let name = text.dropFirst("stream:".count).dropLast(" FOUND".count).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw Failure(description: "clamd answered '\(text)'") }
            return .infected(name)
        }
        if text == "stream: OK" { return .clean }
        throw Failure(description: "clamd answered '\(text.prefix(200))'")
    }

    private func connect() throws -> Int32 {
        switch endpoint.address {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            setTimeouts(fd)
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
            setTimeouts(fd)
            guard Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                let e = errno
                close(fd)
                throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(e)))")
            }
            return fd
        }
    }

    private func setTimeouts(_ fd: Int32) {
        let seconds = endpoint.timeout
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else {
                // clamd closes the stream when the message is over its StreamMaxLength, and says so.
                if let answer = try? reply(fd), !answer.isEmpty { throw Failure(description: "clamd answered '\(answer.prefix(200))'") }
                throw Failure(description: errno == EAGAIN ? "timed out sending to clamd" : "clamd closed the connection (errno \(errno))")
            }
            offset += n
        }
    }

    /// Up to the NUL that ends clamd's answer, within the timeout.
    private func reply(_ fd: Int32) throws -> String {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while !out.contains(0), out.count < 4096 {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: errno == EAGAIN ? "clamd did not answer in time" : "recv: errno \(errno)") }
            out += chunk[..<n]
        }
        return String(decoding: out.prefix { $0 != 0 }, as: UTF8.self)
    }
}
