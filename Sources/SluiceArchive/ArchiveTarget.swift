// ArchiveTarget: the `archive: NAME` rule action as a delivery target. The
// archive entry is part of the message's plan, so it is queued, retried and
// survives a crash like any delivery (a message that got its 250 is archived
// even if the daemon dies first); the SMTP reply never waits for it. The
// message is read on the database pool, its entry (text, deflate) built on
// the CPU pool, never on the cooperative threads; the text is what the
// inspect stage's walk left in the handoff, or read again when it is not
// there (a restart, no DLP); entries from concurrent deliveries are written
// in batched transactions.

import Foundation
import Metrics
import NIOPosix
import SluiceCore
import SluiceDLP
import SluiceQueue

public final class ArchiveTarget: DeliveryTarget {
    let writer: ArchiveWriter
    /// The archives of the configuration in force (a reload may add some).
    let known: @Sendable () -> Set<String>
    let io: NIOThreadPool
    let cpu: NIOThreadPool
    /// Where the inspect stage left the message's text (nil: every entry reads its own).
    let handoff: MessageHandoff?

    public init(
        store: any ArchiveStore, archives: @escaping @Sendable () -> Set<String>, io: NIOThreadPool, cpu: NIOThreadPool,
        handoff: MessageHandoff? = nil
    ) {
        writer = ArchiveWriter(store: store)
        known = archives
        self.io = io
        self.cpu = cpu
        self.handoff = handoff
    }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let name = route.instance
        guard route.isArchive, known().contains(name) else {
            throw SMTPError(451, .init(4, 3, 5), "Unknown archive", reason: "no archive for \(route) under archives:")
        }
        let (path, offset, length, prefix) = (message.bodyPath, message.bodyOffset, message.bodyLength, message.prefixBytes)
        let raw = try await io.runIfActive { () throws -> [UInt8] in
            var bytes = prefix
            bytes.reserveCapacity(prefix.count + length - offset)
            try QueueFileReader.chunks(path, offset: offset, length: length - offset) { bytes += $0 }
            return bytes
        }
        let (envelope, verdicts) = (message.envelope, message.verdicts)
        let text = handoff?.value(IndexText.self, for: envelope.queueID)
        Counter(label: "sluice_archive_entries_total", dimensions: [("text", text == nil ? "read" : "inspect")]).increment()
        let entry = try await cpu.runIfActive {
            ArchiveEntryBuilder.entry(
                archive: name, envelope: envelope, receivedAt: envelope.receivedAt, recipients: recipients, raw: raw, verdicts: verdicts,
                text: text)
        }
        try await writer.add(entry)
        return DeliveryReport(detail: "archive \(name)")
    }
}

/// Collects entries from concurrent deliveries and writes them in one transaction per batch.
actor ArchiveWriter {
    let store: any ArchiveStore
    private var pending: [(ArchiveEntry, CheckedContinuation<Void, any Error>)] = []
    private var writing = false

    init(store: any ArchiveStore) { self.store = store }

    func add(_ entry: ArchiveEntry) async throws {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((entry, continuation))
            if !writing {
                writing = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending.prefix(200)
            pending.removeFirst(batch.count)
            let entries = batch.map(\.0)
            let store = self.store
            do {
                try await store.add(entries)
                for (_, c) in batch { c.resume() }
            } catch {
                for (_, c) in batch { c.resume(throwing: SMTPError(451, .init(4, 3, 0), "Archive write failed", reason: "\(error)")) }
            }
        }
        writing = false
    }
}
