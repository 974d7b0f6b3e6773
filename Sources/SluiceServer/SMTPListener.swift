// SMTPListener: one bound SMTP address ("ingress endpoint"). Accepts
// connections with TCP_NODELAY, adds implicit TLS where configured, and runs an
// SMTPServerHandler per connection. Closing it stops accepting; sessions in
// flight go on until they end or the daemon's shutdown bound.

import NIOCore
import NIOPosix
import NIOSSL
import SluiceCore

public final class SMTPListener: Sendable {
    public let name: String
    public let channel: any Channel
    public let localPort: Int
    public let limiter: ConnectionLimiter
    public let sessions: SessionRegistry

    private init(name: String, channel: any Channel, limiter: ConnectionLimiter, sessions: SessionRegistry) {
        self.name = name
        self.channel = channel
        self.localPort = channel.localAddress?.port ?? 0
        self.limiter = limiter
        self.sessions = sessions
    }

    public static func bind(host: String, port: Int, context: ListenerContext, group: any EventLoopGroup) async throws -> SMTPListener {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress
                    let client = ClientInfo(address: remote?.ipAddress.flatMap(IPAddress.init), port: remote?.port, listener: context.name)
                    if let proxies = context.proxyFrom {
                        // Behind a load balancer only the balancers may connect; they speak first.
                        guard let peer = client.address, proxies.contains(where: { $0.contains(peer) }) else {
                            context.logger.event(
                                .reject, level: .notice, "connection from outside proxy_from closed",
                                [.client: client.address?.description ?? "?", .listener: context.name])
                            channel.close(promise: nil)
                            return
                        }
                        try channel.pipeline.syncOperations.addHandler(ProxyProtocolHandler())
                    }
                    if context.implicitTLS, let tls = context.tls {
                        try channel.pipeline.syncOperations.addHandler(ServerHelloObserver())
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPServerHandler(shared: context, client: client))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return SMTPListener(name: context.name, channel: channel, limiter: context.limiter, sessions: context.sessions)
    }

    /// Stops accepting new connections.
    public func close() async {
        try? await channel.close()
    }
}
