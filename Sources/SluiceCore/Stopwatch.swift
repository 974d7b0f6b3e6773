// Stopwatch: elapsed time for budgets and reports (a PDF's time limit, OCR's,
// how long a scanner took), on the monotonic clock: the wall clock is for
// dates and comes from the injected SluiceClock.

public struct Stopwatch: Sendable {
    private let start = ContinuousClock.now

    public init() {}

    public var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
