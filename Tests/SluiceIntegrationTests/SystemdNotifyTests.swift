// sd_notify: the daemon tells systemd READY=1 once its listeners are bound and
// STOPPING=1 on SIGTERM, through $NOTIFY_SOCKET.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class SystemdNotifyTests: XCTestCase {
    func testReadyAndStopping() throws {
        let path = NSTemporaryDirectory() + "sluice-notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buf, buf.count, 0)
            return n > 0 ? String(decoding: buf[..<n], as: UTF8.self) : ""
        }

        let d = try DaemonProcess()
        try d.start(environment: ["NOTIFY_SOCKET": path])
        let ready = receive()
        XCTAssertTrue(ready.contains("READY=1"), ready)
        XCTAssertTrue(ready.contains("STATUS=accepting mail on relay:\(d.port())"), ready)
        kill(d.process!.processIdentifier, SIGHUP)
        let reloading = receive()
        XCTAssertTrue(reloading.contains("RELOADING=1") && reloading.contains("MONOTONIC_USEC="), reloading)
        var afterReload = receive()
        while afterReload.hasPrefix("STATUS=") { afterReload = receive() }
        XCTAssertTrue(afterReload.contains("READY=1"), afterReload)
        d.process?.terminate()
        var stopping = receive()
        while !stopping.isEmpty && !stopping.contains("STOPPING=1") { stopping = receive() }
        XCTAssertTrue(stopping.contains("STOPPING=1"))
        d.process?.waitUntilExit()
        XCTAssertEqual(d.process?.terminationStatus, 0)
    }
}
