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

struct Executors {
    let files = NIOThreadPool(numberOfThreads: 16)
    let cpu = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
    let lookups = NIOThreadPool(numberOfThreads: 8)
    let database = NIOThreadPool(numberOfThreads: 2)

    var all: [NIOThreadPool] { [files, cpu, lookups, database] }

    func start() { for pool in all { pool.start() } }

    /// After the services have stopped nothing is left to run on the pools; a pool that fails to stop is logged.
    func shutdown(logger: Logger) async {
        for pool in all {
            do { try await pool.shutdownGracefully() } catch {
                logger.event(.error, level: .warning, "a thread pool did not stop cleanly", [.error: "\(error)"])
            }
        }
    }
}
