// ReloadRequests: how a component asks the daemon to rebuild its runtime from
// the configuration and the stores, as SIGHUP does (validated whole, swapped
// as one value, refused and logged if anything is wrong). A component whose
// shared store changed under it (DKIM keys made active on another node) asks
// here; requests made while one waits are folded into it.

public final class ReloadRequests: Sendable {
    public let requests: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    public init() { (requests, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1)) }

    /// Asks for a reload; `reason` goes into the log ("dkim keys changed in the shared store").
    public func request(_ reason: String) { continuation.yield(reason) }
}
