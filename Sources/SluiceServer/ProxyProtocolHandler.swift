// ProxyProtocolHandler: first in the pipeline of a listener behind a load
// balancer. Accepts the PROXY header only from the configured proxy addresses,
// tells the SMTP handler who the client is (a ProxiedClient event), passes
// on whatever followed the header (a TLS ClientHello, say), and removes itself.

import NIOCore
import SluiceCore

/// Fired once the PROXY header is read; `address` nil for a LOCAL header.
public struct ProxiedClient: Sendable {
    public let address: IPAddress?
    public let port: Int?
}

final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var buffer = ByteBuffer()
    private var done = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        switch ProxyHeader.parse(&buffer) {
        case .needMore:
            return
        case .invalid(let why):
            done = true
            context.fireErrorCaught(ProxyProtocolError(reason: why))
            context.close(promise: nil)
        case .local:
            finish(context: context, event: ProxiedClient(address: nil, port: nil))
        case .proxied(let address, let port):
            finish(context: context, event: ProxiedClient(address: address, port: port))
        }
    }

    private func finish(context: ChannelHandlerContext, event: ProxiedClient) {
        done = true
        context.fireUserInboundEventTriggered(event)
        if buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer))
            buffer = ByteBuffer()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

struct ProxyProtocolError: Error, CustomStringConvertible {
    let reason: String
    var description: String { "PROXY protocol: \(reason)" }
}
