// ConnectionLimiter: counts open connections per listener and per client IP,
// shared by the event loops of one listener.

import NIOConcurrencyHelpers
import SluiceCore

public final class ConnectionLimiter: Sendable {
    struct Counts {
        var total = 0
        var perIP: [IPAddress: Int] = [:]
    }

    public let maxTotal: Int
    public let maxPerIP: Int
    private let counts = NIOLockedValueBox(Counts())

    public init(maxTotal: Int, maxPerIP: Int) {
        self.maxTotal = maxTotal
        self.maxPerIP = maxPerIP
    }

    /// Takes a slot, or says why not.
    public func acquire(_ ip: IPAddress?) -> SMTPError? {
        counts.withLockedValue { c in
            if c.total >= maxTotal {
                return SMTPError(421, .init(4, 3, 2), "Error: too many connections, try again later")
            }
            if let ip, c.perIP[ip, default: 0] >= maxPerIP {
                return SMTPError(421, .init(4, 7, 0), "Error: too many connections from your address")
            }
            c.total += 1
            if let ip { c.perIP[ip, default: 0] += 1 }
            return nil
        }
    }

    public func release(_ ip: IPAddress?) {
        counts.withLockedValue { c in
            c.total -= 1
            if let ip {
                let n = c.perIP[ip, default: 1] - 1
                c.perIP[ip] = n > 0 ? n : nil
            }
        }
    }

    public var current: Int { counts.withLockedValue { $0.total } }
}
