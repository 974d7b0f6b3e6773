// OutboundTLSPolicySlot: where `send` asks each domain's outbound TLS
// policy. Delivery is activated before or after the component that decides
// policies (MTA-STS), so `send` holds the slot and the slot holds whichever
// source was set by the end of activation; until one is, the
// administrator's table decides.

import SluiceCore
import Synchronization

public final class OutboundTLSPolicySlot: OutboundTLSPolicySource {
    private let fallback: any OutboundTLSPolicySource
    private let source = Mutex<(any OutboundTLSPolicySource)?>(nil)

    init(fallback: any OutboundTLSPolicySource) { self.fallback = fallback }

    /// False when a source was set already.
    func set(_ s: any OutboundTLSPolicySource) -> Bool {
        source.withLock { current in
            guard current == nil else { return false }
            current = s
            return true
        }
    }

    public func policy(for domain: String) async -> DomainTLSPolicy {
        let s = source.withLock { $0 } ?? fallback
        return await s.policy(for: domain)
    }

    public func record(_ result: TLSSessionResult) async {
        let s = source.withLock { $0 } ?? fallback
        await s.record(result)
    }
}
