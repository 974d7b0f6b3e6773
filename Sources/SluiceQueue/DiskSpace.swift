// DiskSpace: how much room the queue's file system has left, and whether that
// is below `queue.min_free` (R-CORE-3). A full disk is a normal condition, not
// a crash: below the floor new transactions get 452 4.3.1 at MAIL until space
// returns, and a write that fails for lack of space answers 452 4.3.1 at end
// of data (FileSystemError's SMTP reply) and leaves no partial file.

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

public final class DiskSpace: Sendable {
    public let path: String
    /// `queue.min_free` in force (the daemon's current runtime: a reload changes it).
    private let floor: @Sendable () -> Int

    public init(path: String, minFree: @escaping @Sendable () -> Int) {
        self.path = path
        floor = minFree
    }

    public var minFree: Int { floor() }

    /// Bytes an unprivileged writer may still use there; nil if the file system cannot be asked.
    public func freeBytes() -> Int? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// Below the floor (a file system that cannot be asked counts as not low: the writes themselves will say).
    public var isLow: Bool { freeBytes().map { $0 < minFree } ?? false }

    /// The refusal of a new transaction while space is low.
    public static let refusal = SMTPError(452, .init(4, 3, 1), "Insufficient system storage, try again later", reason: "free space below queue.min_free")
}

extension FileSystemError: SMTPErrorConvertible {
    /// No space (or quota): 452 4.3.1, so the client tries again later; any other file error: 451 4.3.0.
    public var smtpError: SMTPError {
        if code == ENOSPC || code == EDQUOT {
            return SMTPError(452, .init(4, 3, 1), "Insufficient system storage, try again later", reason: description)
        }
        return SMTPError(451, .init(4, 3, 0), "Temporary local problem, try again later", reason: description)
    }
}
