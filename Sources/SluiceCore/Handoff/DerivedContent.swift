// DerivedContent: what a stage computed from a message that a later step of
// the same process may reuse instead of computing it again (the text the
// inspect stage's MIME walk decoded, reused by the archive). Unlike verdicts,
// it is never written to the queue: it is an optimisation, lost on restart,
// so whoever reads it must be able to compute it again.

/// A value kept for reuse; it says what it costs to keep.
public protocol DerivedValue: Sendable {
    /// About how many bytes keeping it takes (for the handoff's budget).
    var byteCount: Int { get }
}

public struct DerivedContent: Sendable {
    private var values: [ObjectIdentifier: any DerivedValue] = [:]

    public init() {}

    public subscript<V: DerivedValue>(_ type: V.Type) -> V? {
        get { values[ObjectIdentifier(type)] as? V }
        set { values[ObjectIdentifier(type)] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }

    public var byteCount: Int { values.values.reduce(0) { $0 + $1.byteCount } }
}
