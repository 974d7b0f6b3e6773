// The resolver of `sluice check` (defect: a resolver that could not start hung
// the check and the daemon's start).

import Foundation
import XCTest

/// `sluice check` builds the resolver the daemon would start with: one that cannot start (here /etc/resolv.conf
/// is hidden by a tmpfs over /etc in a private mount namespace) makes it exit 1 with the reason, where it used to
/// hang for ever. The wait is bounded, so a hang fails the test.
final class ResolverCheckTests: XCTestCase {
    func testCheckExitsWhenTheResolverCannotStart() throws {
        guard getuid() == 0, let unshare = which("unshare") else { throw XCTSkip("needs root and unshare (CI runs as root)") }
        let d = try DaemonProcess(yaml: "dns: { nameserver: system }\nlisteners:\n  - { name: relay, address: \"127.0.0.1:0\", tls: none }\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: unshare)
        p.arguments = ["-m", "sh", "-c", "mount -t tmpfs none /etc && exec \"$0\" check --config \"$1\"", DaemonProcess.binary, d.configPath]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        guard !p.isRunning else {
            p.terminate()
            return XCTFail("sluice check hung with a resolver that cannot start")
        }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("DNS resolver: reading /etc/resolv.conf"), message)
    }
}
