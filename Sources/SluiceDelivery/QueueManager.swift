// QueueManager: takes committed messages from the queue and runs the transform
// and deliver stages for each route of their plan. Woken by a trigger when a
// message is queued (like Postfix's qmgr), and by its own timer for retries.
// Temporary failures are retried on the schedule; a permanent failure or
// expiry marks the route failed (bounces arrive with outbound delivery).

import Foundation
import Logging
import NIOPosix
import SluiceCore
import SluiceQueue

/// Turns recipients that failed for good into a DSN to the sender, queued; returns its id.
public protocol Bouncer: Sendable {
    func bounce(_ entry: QueueEntry, failed: [DeliveryStatusNotification.FailedRecipient]) async throws -> QueueID?
}

public actor QueueManager {
    let store: QueueStore
    /// Delivery targets by route kind ("store", "relay").
    let targets: [String: any DeliveryTarget]
    let modifiers: [any MessageModifier]
    let schedule: RetrySchedule
    let maxConcurrent: Int
    /// Queue file reads and writes (fsync) run here, never on the cooperative pool.
    let io: NIOThreadPool
    let clock: any SluiceClock
    var bouncer: (any Bouncer)?
    /// Told of every change an attempt makes (the quarantine index follows the queue through it).
    let observer: (any QueueObserver)?
    var logger: Logger

    /// Due times and destinations of queued messages, and which are being attempted (ids, dates and destination
    /// names only: the queue stays on disk). A message is never both waiting and running, or it could be attempted
    /// twice at once: only an attempt's end puts its message back; everyone else schedules through
    /// `putOnSchedule(_:at:destination:ifRunning:)`.
    var due: DeliverySchedule
    /// Each queued message's state as last seen (for status and metrics).
    var book = QueueStateBook()
    /// Messages whose attempt removed them lately: a commit notice that arrives after the start's index already found,
    /// attempted and delivered the message is not taken for a new message.
    private var removedLately = RecentIDs(limit: 4096)
    /// Messages an operator changed while they were being attempted: read again when the attempt ends.
    private var changedWhileRunning: Set<QueueID> = []
    /// Messages an operator asked to attempt now (QueueManager+Retry): due now, "not before" ignored, until attempted.
    var forced: Set<QueueID> = []
    /// "Retry all" came while the start's index was still running: what it finds is due now too.
    var retryAllWhileIndexing = false
    /// When a scan of the queue that failed is tried again.
    private var rescanAt: Date?
    let wake = WakeSignal()
    private var stopped = false

    public init(
        store: QueueStore, targets: [String: any DeliveryTarget], modifiers: [any MessageModifier] = [],
        schedule: RetrySchedule, maxConcurrent: Int = 32, destinationConcurrency: Int = 20, io: NIOThreadPool,
        clock: any SluiceClock = WallClock(), observer: (any QueueObserver)? = nil, logger: Logger
    ) {
        self.due = DeliverySchedule(destinationLimit: max(1, destinationConcurrency))
        self.observer = observer
        self.io = io
        self.store = store
        self.targets = targets
        self.modifiers = modifiers
        self.schedule = schedule
        self.maxConcurrent = maxConcurrent
        self.clock = clock
        self.logger = logger
    }

    /// Delivers until `stop()`, while it indexes what the queue holds in the background (a chunk of files at a time,
    /// off the actor), so new mail is accepted and delivered from the first second of a restart with a large queue.
    /// Woken by events (a commit, an attempt's end, an indexed chunk, stop) and by the clock at the next due time —
    /// never by polling. Attempts run as child tasks: when it returns, after `stop()` or cancellation, none is left
    /// running.
    public func run() async {
        logger.event(.ready, "queue manager started")
        await withDiscardingTaskGroup { group in
            group.addTask { await self.index(initial: true) }
            while !stopped && !Task.isCancelled {
                if let at = rescanAt, at <= clock.now() {
                    rescanAt = nil
                    group.addTask { await self.index(initial: false) }
                }
                for id in takeDue() {
                    group.addTask { await self.attempt(id) }
                }
                await waitForWork(until: due.runningCount < maxConcurrent ? nextDue() : nil)
            }
        }
    }

    /// Until something happens or `deadline` comes, whichever is first.
    private func waitForWork(until deadline: Date?) async {
        let (wake, clock) = (self.wake, self.clock)
        await withTaskGroup(of: Void.self) { waiters in
            if let deadline { waiters.addTask { await clock.sleep(until: deadline) } }
            waiters.addTask { await wake.wait() }
            await waiters.next()
            waiters.cancelAll()
        }
    }

    /// The earliest due time of a message not being attempted (or of a scan to try again).
    private func nextDue() -> Date? {
        [due.next(), rescanAt].compactMap { $0 }.min()
    }

    /// Re-reads the queue (after an operator released or changed messages: SIGUSR1) as the start does.
    public func rescan() async {
        await index(initial: false)
    }

    /// Whether the first index of the queue is done (every message on disk at the start is scheduled).
    public private(set) var indexed = false

    /// Reads every queued message's state, `chunkSize` files at a time on the file pool, and schedules each as it says.
    /// A committed file whose end record is damaged is moved to corrupt/ (logged, counted), never delivered. A queue
    /// directory that cannot be read is logged and counted, never taken for an empty queue: what is known stays
    /// scheduled, and the scan is tried again a minute later.
    func index(initial: Bool, chunkSize: Int = 1000) async {
        let store = self.store
        let began = clock.now()
        let ids: [QueueID]
        do {
            // Notices left for an earlier run of the daemon: this index reads every message anyway; state files whose
            // message is gone are swept (recovery left them for now, to listen sooner).
            let (listed, swept) = try await io.runIfActive {
                guard initial else { return (try store.ids(), [String]()) }
                _ = try store.takeNotices()
                let listed = try store.ids()
                return (listed, try store.removeStrayStates(committed: listed))
            }
            ids = listed
            for action in swept { logger.event(.recover, level: .notice, "queue recovery", [.file: action]) }
        } catch {
            logger.event(.error, level: .error, "cannot read the queue; trying again in a minute", [.error: "\(error)"])
            SluiceMetrics.queueScanFailed()
            rescanAt = clock.now().addingTimeInterval(60)
            wake.signal()
            return
        }
        var scheduled = 0
        for start in stride(from: 0, to: ids.count, by: chunkSize) {
            let chunk = Array(ids[start..<min(ids.count, start + chunkSize)])
            let read: [(QueueID, Result<QueueEntry?, any Error>)]
            do {
                read = try await io.runIfActive { chunk.map { id in (id, Result { try store.load(id) }) } }
            } catch {
                return  // the pool is shutting down
            }
            for (id, result) in read where !due.isRunning(id) {
                switch result {
                case .success(let entry?) where entry.hasDeliverableRoutes:
                    // Read before an attempt that may have ended since: that attempt scheduled it as it left it
                    // (or it is gone, and its next attempt finds nothing).
                    putOnSchedule(id, at: entry.nextAttempt, destination: destination(of: entry), ifRunning: .skip)
                    if !initial || !book.knows(id) { book.record(id, entry.state) }
                    scheduled += 1
                case .success(let entry?):
                    // Held until a release.
                    if !initial || !book.knows(id) { book.record(id, entry.state) }
                case .success(nil):
                    book.record(id, nil)  // gone meanwhile
                case .failure(let error):
                    await setAsideOrRetry(id, error)
                }
            }
            wake.signal()
        }
        if initial {
            indexed = true
            retryAllWhileIndexing = false
            logger.event(
                .ready, "queue indexed",
                [.size: "\(ids.count)", .count: "\(scheduled)", .durationMS: "\(Int(clock.now().timeIntervalSince(began) * 1000))"])
        }
    }

    /// A message whose file did not read: moved to corrupt/ when its end record is damaged, else attempted now (the
    /// attempt reads it under the lock, which sets an unreadable state aside).
    private func setAsideOrRetry(_ id: QueueID, _ error: any Error) async {
        let store = self.store
        do {
            if let action = try await io.runIfActive({ try store.setAsideIfCorrupt(id) }) {
                logger.event(.recover, level: .notice, "queue recovery", [.queueID: id.rawValue, .file: action])
                SluiceMetrics.queueCorruption()
                due.remove(id)
                book.record(id, nil)
                return
            }
        } catch let checking {
            logger.event(.error, level: .error, "queue entry could not be checked", [.queueID: id.rawValue, .error: "\(checking)"])
        }
        logger.event(.error, level: .error, "queue entry unreadable", [.queueID: id.rawValue, .error: "\(error)"])
        putOnSchedule(id, at: clock.now(), destination: due.destination(of: id) ?? "", ifRunning: .skip)
    }

    enum WhileRunning { case skip, readAgainAfter }

    /// Puts a message on the schedule, unless it is being attempted: then its attempt's end schedules it (and,
    /// with `.readAgainAfter`, reads it again first, for a change an operator made during the attempt).
    func putOnSchedule(_ id: QueueID, at: Date, destination: String, ifRunning: WhileRunning) {
        if retryAllWhileIndexing { forced.insert(id) }
        guard due.isRunning(id) else {
            due.set(id, at: forced.contains(id) ? min(at, clock.now()) : at, destination: destination)
            return
        }
        if ifRunning == .readAgainAfter { changedWhileRunning.insert(id) }
    }

    /// Stops taking messages; `run` returns when the attempts in flight have finished.
    public func stop() {
        stopped = true
        wake.signal()
    }

    /// An operator changed these messages: schedule them as they now say, without a rescan. Read a chunk at a time
    /// on the file pool. A message being attempted is read again when its attempt ends.
    public func reschedule(_ ids: [QueueID], chunkSize: Int = 1000) async {
        let store = self.store
        for start in stride(from: 0, to: ids.count, by: chunkSize) {
            var idle: [QueueID] = []
            for id in ids[start..<min(ids.count, start + chunkSize)] {
                if due.isRunning(id) { changedWhileRunning.insert(id) } else { idle.append(id) }
            }
            let chunk = idle
            let read: [(QueueID, Result<QueueEntry?, any Error>)]
            do {
                read = try await io.runIfActive { chunk.map { id in (id, Result { try store.load(id) }) } }
            } catch {
                return  // the pool is shutting down
            }
            for (id, result) in read {
                switch result {
                case .success(let entry?) where entry.hasDeliverableRoutes:
                    // An attempt may have started while the file was read: it reads the message itself, under the lock.
                    putOnSchedule(id, at: entry.nextAttempt, destination: destination(of: entry), ifRunning: .readAgainAfter)
                    if !due.isRunning(id) { book.record(id, entry.state) }
                case .success(let entry):
                    if !due.isRunning(id) {
                        due.remove(id)
                        book.record(id, entry?.state)
                    }
                case .failure(let error):
                    // Read again at its due time, under the lock (which sets an unreadable state aside).
                    logger.event(.error, level: .error, "queue entry unreadable", [.queueID: id.rawValue, .error: "\(error)"])
                    putOnSchedule(id, at: clock.now(), destination: due.destination(of: id) ?? "", ifRunning: .readAgainAfter)
                }
            }
            wake.signal()
        }
    }

    /// Another process changed the queue (SIGUSR1): the messages its notices name are read again, or, with no
    /// notice (another tool's signal), the whole queue.
    public func changedElsewhere() async {
        let store = self.store
        let noticed: QueueStore.Notices?
        do {
            noticed = try await io.runIfActive { try store.takeNotices() }
        } catch {
            logger.event(.error, level: .error, "cannot read the queue's notices; reading the whole queue", [.error: "\(error)"])
            noticed = nil
        }
        guard let noticed else { return await index(initial: false) }
        if noticed.retryAll { retryAll() }
        if !noticed.retry.isEmpty { retryNow(noticed.retry) }
        if !noticed.changed.isEmpty { await reschedule(noticed.changed) }
    }

    /// A message was committed: deliver it now. (A message being attempted was read after its commit: nothing to do.)
    public func enqueued(_ entry: QueueEntry) {
        guard !removedLately.contains(entry.id) else { return }
        putOnSchedule(entry.id, at: clock.now(), destination: destination(of: entry), ifRunning: .skip)
        if !due.isRunning(entry.id) { book.record(entry.id, entry.state) }
        wake.signal()
    }

    /// A message was committed, its destination unknown until its first attempt reads it.
    public func enqueued(_ id: QueueID) {
        putOnSchedule(id, at: clock.now(), destination: "", ifRunning: .skip)
        if !book.knows(id) { book.record(id, .active) }
        wake.signal()
    }

    public func setBouncer(_ b: any Bouncer) { bouncer = b }

    /// The due messages to attempt now, earliest due and then longest waiting first (so neither retries nor new
    /// arrivals starve), within the concurrency limit; marked running.
    private func takeDue() -> [QueueID] {
        let now = clock.now()
        return due.takeDue(now: now, limit: max(0, maxConcurrent - due.runningCount))
    }

    /// Attempts a message taken from the schedule; when the attempt ends, the message goes back on the schedule
    /// as the attempt left it (after leaving `running`, never while still in it), and is read again if an operator
    /// changed it meanwhile.
    private func attempt(_ id: QueueID) async {
        let next = await attemptOnce(id)
        due.finished(id)
        if let next {
            due.set(id, at: forced.contains(id) ? clock.now() : next.at, destination: next.destination)
        } else {
            forced.remove(id)  // delivered, deleted or held while an operator's retry waited for this attempt to end
        }
        if changedWhileRunning.remove(id) != nil { await reschedule([id]) }
        wake.signal()
    }

    /// One attempt; returns when and where the message is due next (nil: delivered, deleted, held or waiting for a
    /// release).
    private func attemptOnce(_ id: QueueID) async -> (at: Date, destination: String)? {
        let log = logger.with(queueID: id)
        let store = self.store
        let loaded: QueueEntry?
        do {
            // Read under the message's lock: a state file that cannot be read is moved to corrupt/ (logged,
            // counted) and the message goes on from its end record, never skipped.
            loaded = try await io.runIfActive { try store.modify(id) { _ in .keep } }
        } catch {
            // Not readable now (the queue file itself: recovery moves such files to corrupt/ at start).
            log.event(.error, level: .error, "queue entry unreadable", [.error: "\(error)"])
            return (clock.now().addingTimeInterval(schedule.delay(afterAttempt: 1)), due.destination(of: id) ?? "")
        }
        // Deleted by an operator, or held: off the schedule until a release reschedules it.
        book.record(id, loaded?.state)
        guard var entry = loaded, !entry.held else {
            forced.remove(id)
            return nil
        }
        let now = clock.now()
        // An operator's retry attempts routes told "not before" too (as `queue retry` without a daemon clears it).
        let force = forced.remove(id) != nil
        // Each pending, unquarantined route is attempted, all at once (the archive's write does not hold up the
        // relay); its results replace it (a route may split). A route told "not before" waits until then (it is not
        // attempted, and nothing about it changes).
        let toAttempt = entry.routes.indices.filter {
            let state = entry.routes[$0]
            return state.status == .pending && !state.route.held && (force || (state.notBefore ?? .distantPast) <= now)
        }
        let attempted = entry
        var outcomes: [Int: [RouteState]] = [:]
        await withTaskGroup(of: (Int, [RouteState]).self) { group in
            for index in toAttempt {
                group.addTask { (index, await self.attempt(attempted.routes[index], of: attempted, now: now, log: log)) }
            }
            for await (index, results) in group { outcomes[index] = results }
        }
        var routes: [RouteState] = []
        var ranges: [Int: Range<Int>] = [:]
        for (index, state) in entry.routes.enumerated() {
            guard let results = outcomes[index] else {
                routes.append(state)
                continue
            }
            ranges[index] = routes.count..<(routes.count + results.count)
            routes += results
        }
        entry.routes = routes
        await bounceNewFailures(&entry, log: log)
        let results = ranges.mapValues { Array(entry.routes[$0]) }
        let loadedNext = entry.nextAttempt
        let delay = schedule.delay(afterAttempt: entry.attempts)
        do {
            // Written under the message's lock, on top of what is on disk now: an operator's hold, release,
            // retry or delete made while this attempt ran is kept, not overwritten.
            let after = try await io.runIfActive {
                try store.modify(id, durableRemoval: false) { current in
                    .merge(results, into: current, loadedNextAttempt: loadedNext, retryDelay: delay, now: now)
                }
            }
            if after == nil {
                log.event(.removed, "removed from queue")
                removedLately.insert(id)
            }
            book.record(id, after?.state)
            await observer?.changed(id, to: after)
            // Only quarantined or held routes left: wait for a release instead of retrying.
            guard let after, after.hasDeliverableRoutes else { return nil }
            return (after.nextAttempt, destination(of: after))
        } catch {
            log.event(.error, level: .error, "queue update failed", [.error: "\(error)"])
            return (clock.now().addingTimeInterval(schedule.delay(afterAttempt: 1)), destination(of: entry))
        }
    }
}

extension Logger {
    public func with(queueID: QueueID) -> Logger {
        var copy = self
        copy[.queueID] = queueID.rawValue
        return copy
    }
}
