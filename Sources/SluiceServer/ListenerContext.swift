// ListenerContext: what every connection of one listener shares: settings for
// the session, the accept checks, the receiver, TLS, the spool, and limits.

import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SluiceCore
import SluiceQueue
import SluiceSMTP

public struct ListenerContext: Sendable {
    public var name: String
    public var session: SMTPServerSession.Configuration
    public var checks: any SessionCheck
    /// Checks AUTH credentials; nil when the listener offers no AUTH.
    public var authenticator: (any SMTPAuthenticator)?
    /// PROXY protocol: the load balancers allowed to connect; nil when not behind one.
    public var proxyFrom: [CIDR]?
    public var receiver: any MessageReceiver
    public var tls: TLSContextHolder?
    public var implicitTLS: Bool
    public var queue: QueueStore
    public var fileIO: NIOThreadPool
    public var limiter: ConnectionLimiter
    public var sessions: SessionRegistry
    public var commandTimeout: TimeAmount
    public var dataTimeout: TimeAmount
    public var logger: Logger

    public init(
        name: String, session: SMTPServerSession.Configuration, checks: any SessionCheck, receiver: any MessageReceiver,
        tls: TLSContextHolder?, implicitTLS: Bool, queue: QueueStore, fileIO: NIOThreadPool, limiter: ConnectionLimiter,
        commandTimeout: TimeAmount, dataTimeout: TimeAmount, logger: Logger
    ) {
        self.name = name
        self.session = session
        self.checks = checks
        self.receiver = receiver
        self.tls = tls
        self.implicitTLS = implicitTLS
        self.queue = queue
        self.fileIO = fileIO
        self.limiter = limiter
        self.sessions = SessionRegistry()
        self.authenticator = nil
        self.proxyFrom = nil
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.logger = logger
    }
}
