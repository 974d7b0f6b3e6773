// DirectorySync: fsync of one directory shared by concurrent committers (group
// commit). A caller returns only after an fsync that started after its call;
// callers that arrive while one runs share the next one.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public final class DirectorySync: @unchecked Sendable {
    public let path: String
    private let condition = NSCondition()
    private var requested: UInt64 = 0
    private var completed: UInt64 = 0
    private var running = false
    private var lastError: FileSystemError?

    public init(path: String) { self.path = path }

    public func sync() throws {
        condition.lock()
        defer { condition.unlock() }
        requested += 1
        let mine = requested
        while completed < mine {
            if running {
                condition.wait()
                continue
            }
            running = true
            let target = requested
            condition.unlock()
            var failure: FileSystemError?
            do { try FileSystem.syncDirectory(path) } catch let e as FileSystemError { failure = e } catch {}
            condition.lock()
            running = false
            completed = target
            lastError = failure
            condition.broadcast()
            if let failure, mine <= target { throw failure }
        }
        if let lastError { throw lastError }
    }
}
