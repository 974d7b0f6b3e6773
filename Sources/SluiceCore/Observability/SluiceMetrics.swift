// SluiceMetrics: every metric Sluice exports, named once (R-OPS-2). Stages
// call these; the daemon decides the backend (Prometheus on the admin listener).
// Labels have bounded values: listener and target names from the config,
// enhanced status codes, fixed outcome words.

import Metrics

public enum SluiceMetrics {
    public static func connectionOpened(listener: String) {
        Counter(label: "sluice_connections_total", dimensions: [("listener", listener)]).increment()
        Meter(label: "sluice_connections_current", dimensions: [("listener", listener)]).increment()
    }

    public static func connectionClosed(listener: String) {
        Meter(label: "sluice_connections_current", dimensions: [("listener", listener)]).decrement()
    }

    public static func messageAccepted(listener: String) {
        Counter(label: "sluice_messages_accepted_total", dimensions: [("listener", listener)]).increment()
    }

    /// A refused connection, recipient or message; `status` is the enhanced status ("5.7.1").
    public static func rejected(listener: String, stage: String, status: String) {
        Counter(
            label: "sluice_rejections_total", dimensions: [("listener", listener), ("stage", stage), ("status", status)]
        ).increment()
    }

    /// outcome: delivered | deferred | failed.
    public static func deliveryAttempt(target: String, outcome: String, seconds: Double) {
        Counter(label: "sluice_delivery_attempts_total", dimensions: [("target", target), ("outcome", outcome)]).increment()
        Timer(label: "sluice_delivery_attempt_seconds", dimensions: [("target", target)]).recordSeconds(seconds)
    }

    /// From acceptance to final delivery of a route.
    public static func delivered(target: String, secondsSinceAccepted: Double) {
        Timer(label: "sluice_delivery_latency_seconds", dimensions: [("target", target)]).recordSeconds(secondsSinceAccepted)
    }

    public static func queue(depth: Int, oldestAgeSeconds: Double, corruptFiles: Int) {
        Gauge(label: "sluice_queue_depth").record(depth)
        Gauge(label: "sluice_queue_oldest_age_seconds").record(oldestAgeSeconds)
        Gauge(label: "sluice_queue_corrupt_files").record(corruptFiles)
    }

    /// Free space where the queue lives, and whether it is below queue.min_free (new mail waits: 452 4.3.1).
    public static func queueSpace(freeBytes: Int, low: Bool) {
        Gauge(label: "sluice_queue_free_bytes").record(freeBytes)
        Gauge(label: "sluice_queue_space_low").record(low ? 1 : 0)
    }

    /// A queue file or state file could not be read and was moved to corrupt/.
    public static func queueCorruption() {
        Counter(label: "sluice_queue_corruptions_total").increment()
    }

    /// The queue directory could not be read (the scan is tried again).
    public static func queueScanFailed() {
        Counter(label: "sluice_queue_scan_failures_total").increment()
    }
}
