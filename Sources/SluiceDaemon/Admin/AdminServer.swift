// AdminServer: the admin HTTP listener (R-OPS-2), loopback by default:
//   GET /metrics   Prometheus text format
//   GET /healthz   200 while the process runs
//   GET /readyz    200 when ready to take mail, else 503 with the reason
//   GET /status    JSON for `sluice status`

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

public final class AdminServer: Sendable {
    public let channel: any Channel
    public var localPort: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    public typealias Route = @Sendable () async -> (status: HTTPResponseStatus, contentType: String, body: [UInt8])

    public static func bind(host: String, port: Int, group: any EventLoopGroup, routes: [String: Route]) async throws -> AdminServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(routes: routes))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return AdminServer(channel: channel)
    }

    public func close() async { try? await channel.close() }
}

final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: [String: AdminServer.Route]
    private var head: HTTPRequestHead?

    init(routes: [String: AdminServer.Route]) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            let route: AdminServer.Route
            if head.method != .GET && head.method != .HEAD {
                route = { (.methodNotAllowed, "text/plain", Array("GET only\n".utf8)) }
            } else if let known = routes[path] {
                route = known
            } else {
                route = { (.notFound, "text/plain", Array("not found; try /metrics /healthz /readyz /status\n".utf8)) }
            }
            // Routes read files (the queue) and ask components: off the event loop, answered when done.
            context.eventLoop.makeFutureWithTask { await route() }.assumeIsolated().whenSuccess { result in
                self.respond(result, to: head, context: context)
            }
        }
    }

    private func respond(_ result: (status: HTTPResponseStatus, contentType: String, body: [UInt8]), to head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: result.contentType)
        headers.add(name: "Content-Length", value: "\(result.body.count)")
        headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: result.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: result.body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
