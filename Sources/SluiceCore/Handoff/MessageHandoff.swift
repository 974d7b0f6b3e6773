// MessageHandoff: hands a queued message's DerivedContent from the intake
// (end of DATA) to its deliveries, in memory, within a byte budget. The
// consumer reads it by queue id and type, and drops its type once no delivery
// of the message will need it again; past the budget the oldest messages'
// content goes first, and a consumer that finds nothing computes it again.
// Nothing here is needed for correctness, only to avoid decoding twice.

import Synchronization

public final class MessageHandoff: Sendable {
    fileprivate struct State {
        var content: [QueueID: DerivedContent] = [:]
        /// Ids in the order they were kept (the oldest is evicted first).
        var order: [QueueID] = []
        var head = 0
        var bytes = 0
    }

    private let state = Mutex(State())
    public let budget: Int

    /// `budget`: bytes kept at most, across messages.
    public init(budget: Int = 64 << 20) { self.budget = budget }

    /// Keeps what the intake computed for a message just queued.
    public func keep(_ content: DerivedContent, for id: QueueID) {
        let size = content.byteCount
        guard !content.isEmpty, size <= budget else { return }
        state.withLock { s in
            if let old = s.content.updateValue(content, forKey: id) {
                s.bytes -= old.byteCount
            } else {
                s.order.append(id)
            }
            s.bytes += size
            while s.bytes > budget, s.head < s.order.count {
                let oldest = s.order[s.head]
                s.head += 1
                if let gone = s.content.removeValue(forKey: oldest) { s.bytes -= gone.byteCount }
            }
            s.compact()
        }
    }

    public func value<V: DerivedValue>(_ type: V.Type, for id: QueueID) -> V? {
        state.withLock { $0.content[id]?[type] }
    }

    /// No delivery of this message will need this type again.
    public func drop<V: DerivedValue>(_ type: V.Type, for id: QueueID) {
        state.withLock { s in
            guard var content = s.content[id], let value = content[type] else { return }
            content[type] = nil
            s.bytes -= value.byteCount
            s.content[id] = content.isEmpty ? nil : content
            s.compact()
        }
    }

    /// Messages and bytes kept now.
    public var usage: (messages: Int, bytes: Int) { state.withLock { ($0.content.count, $0.bytes) } }
}

extension MessageHandoff.State {
    /// Forgets ids no longer kept once they are most of the order list, so it stays about as long as what is kept.
    mutating func compact() {
        guard order.count - head > 64, order.count - head > 2 * content.count else { return }
        order = order[head...].filter { content[$0] != nil }
        head = 0
    }
}
