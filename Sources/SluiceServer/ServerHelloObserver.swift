// ServerHelloObserver: which cipher suite a TLS handshake chose, read from the
// ServerHello as it leaves. NIOSSL exposes the negotiated protocol version but
// not the cipher; the ServerHello is sent in clear in TLS 1.2 and 1.3, so a
// handler between the socket and NIOSSLHandler reads its cipher_suite field
// (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3) and passes every byte on untouched.

import NIOCore
import SluiceCore

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
