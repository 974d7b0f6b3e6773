// ServerHelloReader: which cipher suite an outbound TLS handshake chose,
// read from the server's ServerHello as it arrives (NIOSSL does not say). It
// sits between the socket and NIOSSLClientHandler, passes every byte on, and
// is removed when the handshake completes.

import NIOCore
import SluiceCore

final class ServerHelloReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The ServerHello fits in its first few hundred bytes; more without one means there is none to read.
    static let limit = 512
    private var seen: [UInt8] = []
    private var done = false
    private(set) var cipherSuite: UInt16?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done {
            let buffer = unwrapInboundIn(data)
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
        context.fireChannelRead(data)
    }
}
