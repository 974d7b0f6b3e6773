// BinaryHeap: the smallest element first, O(log n) to add or take one, O(n)
// to build from many. Counts its comparisons, so tests measure the work of a
// dispatch instead of timing it. The queue manager's schedules (DueSchedule,
// DeliverySchedule) keep their entries in one each.

struct BinaryHeap<Element: Comparable & Sendable>: Sendable {
    private(set) var elements: [Element] = []
    private(set) var comparisons = 0

    var first: Element? { elements.first }
    var count: Int { elements.count }
    var capacity: Int { elements.capacity }

    mutating func push(_ element: Element) {
        elements.append(element)
        var i = elements.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            comparisons += 1
            guard elements[i] < elements[parent] else { break }
            elements.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes the first element.
    mutating func popFirst() {
        let last = elements.removeLast()
        guard !elements.isEmpty else { return }
        elements[0] = last
        siftDown(0)
    }

    /// Replaces the contents with `elements`, in O(n).
    mutating func rebuild(_ new: [Element]) {
        elements = new
        for i in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    mutating func shrinkIfSparse() { elements.shrinkIfSparse() }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < elements.count {
                comparisons += 1
                if elements[l] < elements[smallest] { smallest = l }
            }
            if r < elements.count {
                comparisons += 1
                if elements[r] < elements[smallest] { smallest = r }
            }
            guard smallest != i else { return }
            elements.swapAt(i, smallest)
            i = smallest
        }
    }
}
