// ServerHelloObserver: which cipher suite a TLS handshake chose, read from the
// ServerHello as it leaves. NIOSSL exposes the negotiated protocol version but
// not the cipher; the ServerHello is sent in clear in TLS 1.2 and 1.3, so a
// handler between the socket and NIOSSLHandler reads its cipher_suite field
// (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3) and passes every byte on untouched.

import NIOCore

final class ServerHelloObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The ServerHello fits in its first few hundred bytes; more without one means there is none to read.
    static let limit = 512
    private var seen: [UInt8] = []
    private var done = false
    private(set) var cipherSuite: UInt16?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !done {
            let buffer = unwrapOutboundIn(data)
            seen.append(contentsOf: buffer.readableBytesView.prefix(Self.limit - seen.count))
            switch ServerHello.cipherSuite(in: seen) {
            case .found(let code):
                cipherSuite = code
                done = true
            case .notServerHello:
                done = true
            case .incomplete:
                done = seen.count >= Self.limit
            }
            if done { seen = [] }
        }
        context.write(data, promise: promise)
    }
}

/// The cipher_suite field of a TLS record carrying a ServerHello.
enum ServerHello {
    enum Parse: Equatable {
        case found(UInt16)
        case incomplete
        case notServerHello
    }

    static func cipherSuite(in bytes: [UInt8]) -> Parse {
        // Record header: type 22 (handshake), version, length; handshake header: type 2 (server_hello), length.
        guard !bytes.isEmpty else { return .incomplete }
        guard bytes[0] == 22 else { return .notServerHello }
        guard bytes.count > 5 else { return .incomplete }
        guard bytes[5] == 2 else { return .notServerHello }
        // legacy_version (2) and random (32) follow the 4-byte handshake header at 5.
        let sessionIDLength = 5 + 4 + 2 + 32
        guard bytes.count > sessionIDLength else { return .incomplete }
        let cipher = sessionIDLength + 1 + Int(bytes[sessionIDLength])
        guard bytes.count >= cipher + 2 else { return .incomplete }
        return .found(UInt16(bytes[cipher]) << 8 | UInt16(bytes[cipher + 1]))
    }
}
