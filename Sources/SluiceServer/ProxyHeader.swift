// ProxyHeader: the PROXY protocol header (HAProxy, versions 1 and 2) that a
// load balancer sends before the SMTP dialogue to say who the client really
// is. Pure parsing; the header is bounded (v1: 107 bytes, v2: 16 + 216).

import NIOCore
import SluiceCore

public enum ProxyHeader: Equatable, Sendable {
    /// The real client behind the proxy.
    case proxied(address: IPAddress, port: Int)
    /// The proxy speaks for itself (health checks): keep the proxy's address.
    case local
    case needMore
    case invalid(String)

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1MaxLength = 107

    /// Parses a header at the start of `buffer`, consuming it on success.
    public static func parse(_ buffer: inout ByteBuffer) -> ProxyHeader {
        let view = buffer.readableBytesView
        guard let first = view.first else { return .needMore }
        if first == UInt8(ascii: "P") { return parseV1(&buffer) }
        if first == 0x0D { return parseV2(&buffer) }
        return .invalid("not a PROXY protocol header")
    }

    static func parseV1(_ buffer: inout ByteBuffer) -> ProxyHeader {
        let view = buffer.readableBytesView
        let prefix = Array("PROXY ".utf8)
        if view.count < prefix.count { return view.elementsEqual(prefix.prefix(view.count)) ? .needMore : .invalid("bad v1 signature") }
        guard view.prefix(prefix.count).elementsEqual(prefix) else { return .invalid("bad v1 signature") }
        guard let lf = view.firstIndex(of: 10) else {
            return view.count >= v1MaxLength ? .invalid("v1 header too long") : .needMore
        }
        let length = lf - view.startIndex + 1
        guard length <= v1MaxLength, length >= 2, view[lf - 1] == 13 else { return .invalid("v1 header must end with CRLF") }
        let line = String(decoding: view[view.startIndex..<(lf - 1)], as: UTF8.self)
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        buffer.moveReaderIndex(forwardBy: length)
        if parts.count >= 2 && parts[1] == "UNKNOWN" { return .local }
        guard parts.count == 6, parts[1] == "TCP4" || parts[1] == "TCP6",
            let source = IPAddress(String(parts[2])), IPAddress(String(parts[3])) != nil,
            source.isIPv4 == (parts[1] == "TCP4") || parts[1] == "TCP6",
            let port = Int(parts[4]), (0...65535).contains(port), let dport = Int(parts[5]), (0...65535).contains(dport)
        else { return .invalid("malformed v1 header") }
        return .proxied(address: source, port: port)
    }

    static func parseV2(_ buffer: inout ByteBuffer) -> ProxyHeader {
        let view = buffer.readableBytesView
        if view.count < 16 {
            let n = min(view.count, 12)
            return view.prefix(n).elementsEqual(v2Signature.prefix(n)) ? .needMore : .invalid("bad v2 signature")
        }
        guard view.prefix(12).elementsEqual(v2Signature) else { return .invalid("bad v2 signature") }
        let base = view.startIndex
        let versionCommand = view[base + 12]
        let family = view[base + 13]
        let length = Int(view[base + 14]) << 8 | Int(view[base + 15])
        guard versionCommand >> 4 == 2 else { return .invalid("unsupported v2 version") }
        guard length <= 216 + 1024 else { return .invalid("v2 header too long") }
        guard view.count >= 16 + length else { return .needMore }
        let body = Array(view[(base + 16)..<(base + 16 + length)])
        buffer.moveReaderIndex(forwardBy: 16 + length)
        switch versionCommand & 0x0F {
        case 0: return .local
        case 1: break
        default: return .invalid("unknown v2 command")
        }
        switch family {
        case 0x11:  // TCP over IPv4: src(4) dst(4) sport(2) dport(2)
            guard body.count >= 12, let ip = IPAddress(bytes: Array(body[0..<4])) else { return .invalid("short v2 IPv4 block") }
            return .proxied(address: ip, port: Int(body[8]) << 8 | Int(body[9]))
        case 0x21:  // TCP over IPv6: src(16) dst(16) sport(2) dport(2)
            guard body.count >= 36, let ip = IPAddress(bytes: Array(body[0..<16])) else { return .invalid("short v2 IPv6 block") }
            return .proxied(address: ip, port: Int(body[32]) << 8 | Int(body[33]))
        case 0x00:
            return .local
        default:
            return .invalid("unsupported v2 address family")
        }
    }
}
