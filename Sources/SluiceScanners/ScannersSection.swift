// The `scanners:` section (SPEC §12): the content scanners administrators
// already run, asked about each message at end of DATA.
//
//   scanners:
//     spam:  { spamd: "127.0.0.1:783", timeout: 10s, on_error: tempfail }          # SpamAssassin's spamd; or unix:/PATH
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
    /// SpamAssassin's spamd.
    public var spam: ScannerEndpoint?

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let node else { return }
        let m = try node.mapping(allowed: ["virus", "spam"])
        if let v = m["virus"] {
            virus = try Self.endpoint(v, addressKey: "socket", defaultTimeout: 20, context) {
                "scanners.virus needs socket: (clamd's LocalSocket path, or tcp:HOST:PORT)"
            }
        }
        if let s = m["spam"] {
            spam = try Self.endpoint(s, addressKey: "spamd", defaultTimeout: 10, context, tcpByDefault: true) {
                "scanners.spam needs spamd: (HOST:PORT, as 127.0.0.1:783, or unix:/PATH)"
            }
        }
    }

    static func endpoint(
        _ node: ConfigNode, addressKey: String, defaultTimeout: Double, _ context: ConfigContext, tcpByDefault: Bool = false,
        missing: () -> String
    ) throws -> ScannerEndpoint {
        let e = try node.mapping(allowed: [addressKey, "timeout", "on_error"])
        guard let address = e[addressKey] else { throw node.error(missing()) }
        let endpoint = ScannerEndpoint(
            address: try Self.address(address, context, tcpByDefault: tcpByDefault), timeout: try e["timeout"]?.duration() ?? defaultTimeout,
            onError: try e["on_error"]?.choice(ScannerEndpoint.OnError.self) ?? .tempfail)
        guard endpoint.timeout > 0 else { throw e["timeout"]!.error("a scanner's timeout is more than 0s") }
        return endpoint
    }

    /// "unix:/path", "/path" or "tcp:HOST:PORT" (or "HOST:PORT" where TCP is the default, as for spamd).
    static func address(_ node: ConfigNode, _ context: ConfigContext, tcpByDefault: Bool = false) throws -> ScannerEndpoint.Address {
        let text = try node.nonEmptyString()
        if text.hasPrefix("tcp:") || (tcpByDefault && !text.hasPrefix("unix:") && !text.hasPrefix("/")) {
            let rest = text.hasPrefix("tcp:") ? text.dropFirst(4) : text[...]
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port),
                colon > rest.startIndex
            else { throw node.error("expected \(tcpByDefault ? "HOST:PORT" : "tcp:HOST:PORT"), got '\(text)'") }
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
