// Executors: blocking work separated by kind, each on its own bounded pool,
// so that one kind can never starve another (R-CORE, issue "work separated by
// kind"): a slow DNS answer inside libspf2 never holds a thread that fsyncs
// the queue, and a long DLP scan never delays a 250.
//
//   files     spool writes, fsync, renames, queue reads (many: fsyncs overlap
//             and share directory syncs — group commit)
//   cpu       DLP scans and DKIM signing (one thread per core)
//   lookups   SPF and DKIM verification, whose C libraries wait for DNS
//             answers on the calling thread (bounded by the resolver timeout)
//   database  SQLite writes of the archive (serialised by SQLite anyway)

import Logging
import NIOCore
import SluiceCore
import NIOPosix

public struct Executors: Sendable {
    public let files: NIOThreadPool
    public let cpu: NIOThreadPool
    public let lookups: NIOThreadPool
    public let database: NIOThreadPool

    /// The daemon's pools.
    public init() {
        self.init(files: 16, cpu: max(2, System.coreCount), lookups: 8, database: 2)
    }

    public init(files: Int, cpu: Int, lookups: Int, database: Int) {
        self.files = NIOThreadPool(numberOfThreads: files)
        self.cpu = NIOThreadPool(numberOfThreads: cpu)
        self.lookups = NIOThreadPool(numberOfThreads: lookups)
        self.database = NIOThreadPool(numberOfThreads: database)
    }

    /// One thread each: a command that runs one message (`sluice rules test`).
    public static func single() -> Executors { Executors(files: 1, cpu: 1, lookups: 1, database: 1) }

    public var all: [NIOThreadPool] { [files, cpu, lookups, database] }

    public func start() { for pool in all { pool.start() } }

    /// After the services have stopped nothing is left to run on the pools; a pool that fails to stop is logged.
    public func shutdown(logger: Logger) async {
        for pool in all {
            do { try await pool.shutdownGracefully() } catch {
                logger.event(.error, level: .warning, "a thread pool did not stop cleanly", [.error: "\(error)"])
            }
        }
    }
}
