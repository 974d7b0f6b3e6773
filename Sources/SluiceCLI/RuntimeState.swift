// RuntimeState: what a running daemon published in data_dir/run/listeners.json
// (pid, bound ports), and a tiny HTTP GET for its admin listener.

import Foundation
import SluiceConfig

#if canImport(Glibc)
import Glibc
#endif

struct RuntimeState {
    let pid: Int32
    let adminPort: Int
    let listeners: [String: Int]

    static func read(_ config: SluiceConfiguration) throws -> RuntimeState {
        let path = config.dataDir + "/run/listeners.json"
        guard let data = FileManager.default.contents(atPath: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let pid = json["pid"] as? Int
        else { throw UserError("Sluice does not seem to run: no \(path)") }
        guard kill(Int32(pid), 0) == 0 else { throw UserError("Sluice is not running (pid \(pid) from \(path) is gone)") }
        return RuntimeState(
            pid: Int32(pid), adminPort: json["admin"] as? Int ?? config.admin.port,
            listeners: json["listeners"] as? [String: Int] ?? [:])
    }
}

/// GET over HTTP/1.0 on loopback; returns (status code, body).
func httpGet(host: String, port: Int, path: String) throws -> (Int, Data) {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var result: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
        throw UserError("cannot resolve admin address \(host)")
    }
    defer { freeaddrinfo(result) }
    let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
    guard fd >= 0 else { throw UserError("socket failed") }
    defer { close(fd) }
    var tv = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
        throw UserError("cannot reach the admin listener at \(host):\(port)")
    }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response.append(contentsOf: buffer[..<n])
    }
    guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw UserError("bad answer from the admin listener") }
    let head = String(decoding: response[..<split.lowerBound], as: UTF8.self)
    let code = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    return (code, response[split.upperBound...])
}
