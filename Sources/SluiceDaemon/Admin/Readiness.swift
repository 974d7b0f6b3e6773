// Readiness: what /readyz reports. Ready when the SMTP listeners are bound,
// the queue directory is writable and the rules are loaded.

import Foundation
import NIOConcurrencyHelpers

public final class Readiness: Sendable {
    struct State {
        var listenersBound = false
        var rulesLoaded = false
        var stopping = false
    }

    private let state = NIOLockedValueBox(State())
    let queueDirectory: String

    public init(queueDirectory: String) { self.queueDirectory = queueDirectory }

    public func listenersBound() { state.withLockedValue { $0.listenersBound = true } }
    public func rulesLoaded() { state.withLockedValue { $0.rulesLoaded = true } }
    public func stopping() { state.withLockedValue { $0.stopping = true } }

    /// nil when ready; otherwise why not.
    public var notReadyReason: String? {
        let s = state.withLockedValue { $0 }
        if s.stopping { return "shutting down" }
        if !s.listenersBound { return "SMTP listeners not bound yet" }
        if !s.rulesLoaded { return "rules not loaded" }
        if access(queueDirectory, W_OK) != 0 { return "queue directory not writable" }
        return nil
    }
}
