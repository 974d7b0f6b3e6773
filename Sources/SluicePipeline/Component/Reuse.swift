// Reuse: a component that reads a DerivedValue from the MessageHandoff (the
// archive reads IndexText) says so while the runtime is built; the stage that
// can compute it keeps it only when a component of this runtime will read it,
// so no message pays for what nobody reuses.

import SluiceCore

struct DerivedDemand<V: DerivedValue>: Sendable {}

extension RuntimeBuilder {
    /// Messages of this runtime should keep their `V` for the deliveries (the handoff carries it).
    public mutating func reuse<V: DerivedValue>(_ type: V.Type) { set(DerivedDemand<V>()) }
}

extension Runtime {
    /// Whether a component of this runtime reads `V` from the handoff.
    public func reuses<V: DerivedValue>(_ type: V.Type) -> Bool { part(DerivedDemand<V>.self) != nil }
}
