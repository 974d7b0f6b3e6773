// The `scanners:` section (SPEC §12): the content scanners administrators
// already run, asked about each message at end of DATA.
//
//   scanners:
//     virus: { socket: /run/clamav/clamd.ctl, timeout: 20s, on_error: tempfail }   # clamd; or tcp:HOST:PORT
//
// `on_error: tempfail` answers 451 4.7.1 while the scanner cannot answer
// (nothing accepted is lost: the client retries); `accept` lets mail through,
// with the verdict "unavailable" for the rules and a log line.

import Foundation
import SluiceConfig

public struct ScannerEndpoint: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case unix(String)
        case tcp(host: String, port: Int)
    }

    public enum OnError: String, Sendable, CaseIterable {
        case tempfail, accept
    }

    public var address: Address
    public var timeout: Double
    public var onError: OnError
}

public struct ScannersSection: ConfigSection {
    public static let key = "scanners"
    /// clamd.
    public var virus: ScannerEndpoint?

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["virus"])
        if let v = m["virus"] {
            let e = try v.mapping(allowed: ["socket", "timeout", "on_error"])
            guard let socket = e["socket"] else { throw v.error("scanners.virus needs socket: (clamd's LocalSocket path, or tcp:HOST:PORT)") }
            virus = ScannerEndpoint(
                address: try Self.address(socket, context), timeout: try e["timeout"]?.duration() ?? 20,
                onError: try e["on_error"]?.choice(ScannerEndpoint.OnError.self) ?? .tempfail)
            guard virus!.timeout > 0 else { throw e["timeout"]!.error("a scanner's timeout is more than 0s") }
        }
    }

    /// "unix:/path", "/path" or "tcp:HOST:PORT".
    static func address(_ node: ConfigNode, _ context: ConfigContext) throws -> ScannerEndpoint.Address {
        let text = try node.nonEmptyString()
        if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port),
                colon > rest.startIndex
            else { throw node.error("expected tcp:HOST:PORT, got '\(text)'") }
            return .tcp(host: String(rest[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        }
        let path = text.hasPrefix("unix:") ? String(text.dropFirst(5)) : text
        return .unix(context.resolve(path))
    }
}

extension SluiceConfiguration {
    /// The configured scanners (none when the component is not in the list).
    public var scanners: ScannersSection? { section(ScannersSection.self) }
}
