// SpoolWriter: the spool of the message in flight on one connection. The
// file is opened through the queue, written in batches of 256 KiB on the file
// pool (each write chained on the previous, so bytes stay in order), then
// closed for the queue's commit or thrown away. It counts the bytes not yet
// on disk so the handler can stop reading from a client that sends faster
// than the disk writes. Lives on the connection's event loop.

import NIOCore
import NIOPosix
import SluiceCore
import SluiceQueue

final class SpoolWriter {
    private let queue: QueueStore
    private let pool: NIOThreadPool
    private let loop: any EventLoop
    private var file: SpoolFile?
    private var chain: EventLoopFuture<Void>?
    private var buffer = ByteBuffer()
    /// Bytes handed to the pool and not yet written.
    private(set) var pendingBytes = 0
    /// Called on the event loop when a write finished (the handler re-checks its backpressure).
    var onWritten: () -> Void = {}

    static let batch = 256 * 1024
    static let maxPending = 4 * 1024 * 1024

    init(queue: QueueStore, pool: NIOThreadPool, loop: any EventLoop) {
        self.queue = queue
        self.pool = pool
        self.loop = loop
    }

    /// Whether the client is ahead of the disk by more than it may be.
    var isBehind: Bool { pendingBytes > Self.maxPending }

    /// Opens the spool of a new message and writes its first bytes (the Received header).
    func begin(_ id: QueueID, first: [UInt8]) {
        buffer.clear()
        let queue = self.queue
        chain = pool.runIfActive(eventLoop: loop) { () throws -> SpoolFile in
            let file = try queue.createSpool(for: id)
            try file.write(first)
            return file
        }.assumeIsolated().map { file in self.file = file }.nonisolated()
    }

    func append(_ bytes: inout ByteBuffer) {
        buffer.writeBuffer(&bytes)
        if buffer.readableBytes >= Self.batch { flush() }
    }

    /// Hands the buffered bytes to the pool. A failed write (disk full) fails the chain: `finish` then fails
    /// with its error and the spool is thrown away.
    private func flush() {
        guard buffer.readableBytes > 0, let chain else { return }
        let bytes = buffer
        buffer = ByteBuffer()
        pendingBytes += bytes.readableBytes
        let (pool, loop) = (self.pool, self.loop)
        let next = chain.assumeIsolated().flatMap { () -> EventLoopFuture<Void> in
            guard let file = self.file else { return loop.makeSucceededVoidFuture() }
            return pool.runIfActive(eventLoop: loop) { try bytes.withUnsafeReadableBytes { try file.write($0) } }
        }.nonisolated()
        next.assumeIsolated().whenComplete { _ in
            self.pendingBytes = max(0, self.pendingBytes - bytes.readableBytes)
            self.onWritten()
        }
        self.chain = next
    }

    /// Writes what is buffered and closes the file (no fsync: the queue's commit appends the end record
    /// and fsyncs once). Returns the spool's path and size.
    func finish() -> EventLoopFuture<(path: String, size: Int)> {
        flush()
        guard let chain else {
            return loop.makeFailedFuture(SMTPError(451, .init(4, 3, 0), "Temporary local problem", reason: "no spool"))
        }
        self.chain = nil
        let (pool, loop) = (self.pool, self.loop)
        return chain.assumeIsolated().flatMap { () -> EventLoopFuture<(path: String, size: Int)> in
            guard let file = self.file else {
                return loop.makeFailedFuture(SMTPError(451, .init(4, 3, 0), "Temporary local problem", reason: "no spool"))
            }
            self.file = nil
            return pool.runIfActive(eventLoop: loop) {
                do {
                    try file.close()
                    return (file.path, file.bytesWritten)
                } catch {
                    file.discard()
                    throw error
                }
            }
        }.nonisolated()
    }

    /// Throws the message in flight away (aborted, refused, the connection gone), after writes in progress.
    func discard(_ id: QueueID? = nil) {
        buffer.clear()
        pendingBytes = 0
        let (pool, queue) = (self.pool, self.queue)
        let take = { () -> SpoolFile? in
            let f = self.file
            self.file = nil
            return f
        }
        guard let chain else {
            let file = take()
            if file != nil || id != nil {
                // A spool left behind is removed by the queue's recovery at the next start.
                pool.submit { _ in
                    file?.discard()
                    if let id { try? queue.discardSpool(for: id) }
                }
            }
            return
        }
        self.chain = nil
        chain.assumeIsolated().whenComplete { _ in
            let file = take()
            pool.submit { _ in
                file?.discard()
                if let id { try? queue.discardSpool(for: id) }
            }
        }
    }
}
