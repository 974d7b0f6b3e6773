// SessionRegistry: the open SMTP connections of a listener, so that a
// graceful shutdown can ask each session to finish (drain) and, at the end of
// the grace period, close what is left with a 421.

import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

public enum SessionControl: Sendable {
    /// Finish the transaction in progress, then say 421 and close.
    case drain
    /// Say 421 and close now.
    case forceClose
}

public final class SessionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    public init() {}

    func add(_ channel: any Channel) { channels.withLockedValue { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: any Channel) { _ = channels.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) } }

    public var count: Int { channels.withLockedValue { $0.count } }

    public func broadcast(_ control: SessionControl) {
        for channel in channels.withLockedValue({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(control)
        }
    }
}

/// The TLS context of a listener, replaceable on reload (certificate rotation).
public final class TLSContextHolder: Sendable {
    private let box: NIOLockedValueBox<NIOSSLContext>

    public init(_ context: NIOSSLContext) { box = NIOLockedValueBox(context) }

    public var current: NIOSSLContext { box.withLockedValue { $0 } }
    public func replace(_ context: NIOSSLContext) { box.withLockedValue { $0 = context } }
}
