// TestSMTPClient: a deliberately plain blocking SMTP client over a POSIX
// socket, so tests can send exactly the bytes they mean (including hostile ones).

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class TestSMTPClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `ipv6`: connects to [::1] instead of 127.0.0.1.
    init(port: Int, timeout: Int = 20, ipv6: Bool = false) throws {
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let r: Int32
        if ipv6 {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = in_port_t(UInt16(port).bigEndian)
            addr.sin6_addr = in6addr_loopback
            r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard r == 0 else { throw Failure(description: "connect to \(port) failed: errno \(errno)") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += n
        }
    }

    /// One line without CRLF, or nil at EOF / timeout.
    func readLine() -> String? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<i])
                buffer.removeSubrange(...i)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    /// One (possibly multi-line) reply: code and the text of its last line.
    func reply() throws -> (code: Int, text: String, lines: [String]) {
        var lines: [String] = []
        while let line = readLine() {
            lines.append(line)
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw Failure(description: "bad reply line \(line)") }
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                return (code, String(line.dropFirst(4)), lines)
            }
        }
        throw Failure(description: "connection closed (after \(lines))")
    }

    /// Sends a command line and returns its reply.
    @discardableResult
    func command(_ line: String) throws -> (code: Int, text: String, lines: [String]) {
        try write(line + "\r\n")
        return try reply()
    }

    /// True when the server has closed the connection.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}

extension TestSMTPClient {
    /// One whole transaction on a new connection: greeting, EHLO, MAIL, RCPT,
    /// DATA with `message` (CRLF lines, without the final dot). Returns the
    /// reply to the end of data.
    /// After the greeting: EHLO, MAIL, each RCPT and DATA, each expected to succeed; the caller sends the content
    /// (ending in ".\r\n") and reads the final reply, or not.
    func beginTransaction(helo: String = "client.test", from: String, to: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try command("EHLO \(helo)")
        XCTAssertEqual(try command("MAIL FROM:<\(from)>").code, 250, file: file, line: line)
        for r in to { XCTAssertEqual(try command("RCPT TO:<\(r)>").code, 250, file: file, line: line) }
        XCTAssertEqual(try command("DATA").code, 354, file: file, line: line)
    }

    static func sendMessage(
        port: Int, from: String = "a@example.test", to: String = "b@example.org", message: String, ipv6: Bool = false
    ) throws -> (code: Int, text: String, lines: [String]) {
        let c = try TestSMTPClient(port: port, ipv6: ipv6)
        _ = try c.reply()
        _ = try c.command("EHLO client.test")
        _ = try c.command("MAIL FROM:<\(from)>")
        _ = try c.command("RCPT TO:<\(to)>")
        _ = try c.command("DATA")
        try c.write(message + ".\r\n")
        let r = try c.reply()
        _ = try? c.command("QUIT")
        return r
    }
}
