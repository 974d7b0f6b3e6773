// Giving back the memory of a dictionary or array that grew with a backlog.
// Swift's collections keep their capacity when elements are removed: after a
// million queued messages drained, the queue manager's indexes of them would
// hold their peak size for the life of the daemon. Once a collection holds a
// quarter of its capacity (and is past a floor), it is copied into one sized
// for what it holds: amortised O(1) per removal.

extension Dictionary {
    /// Reallocates at twice the count when the count has fallen below a quarter of the capacity.
    public mutating func shrinkIfSparse(floor: Int = 4096) {
        guard capacity > floor, count < capacity / 4 else { return }
        var smaller = [Key: Value](minimumCapacity: count * 2)
        for (k, v) in self { smaller[k] = v }
        self = smaller
    }
}

extension Set {
    public mutating func shrinkIfSparse(floor: Int = 4096) {
        guard capacity > floor, count < capacity / 4 else { return }
        var smaller = Set(minimumCapacity: count * 2)
        for e in self { smaller.insert(e) }
        self = smaller
    }
}

extension Array {
    public mutating func shrinkIfSparse(floor: Int = 4096) {
        guard capacity > floor, count < capacity / 4 else { return }
        var smaller: [Element] = []
        smaller.reserveCapacity(count * 2)
        smaller.append(contentsOf: self)
        self = smaller
    }
}
