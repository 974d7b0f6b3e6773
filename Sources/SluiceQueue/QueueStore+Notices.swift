// Notices: how a command in another process tells the daemon which messages
// it changed (released, retried), so the daemon reads just those instead of
// the whole queue. The command writes the ids to a file in notices/ and sends
// SIGUSR1; the daemon takes every notice there at once (signals coalesce). A
// signal with no notice (another tool, an older command) still means "read
// the whole queue". Notices are hints: a lost one costs a retry's delay, never
// a message (the queue files stay the truth, and a restart reads them all).
//
// A notice may also ask for an attempt now ("#retry" then ids, or "#retry-all"):
// `queue retry` with a daemon running writes nothing else; the daemon holds every
// due time in memory, and each attempt writes the message's state anyway.

import Foundation
import SluiceCore

extension QueueStore {
    var noticesDir: String { directory + "/notices" }

    /// What the notices left since the last look asked for.
    public struct Notices: Sendable, Equatable {
        /// Messages changed on disk: read them again.
        public var changed: [QueueID] = []
        /// Messages to attempt now (nothing about them was written).
        public var retry: [QueueID] = []
        /// Every waiting message to be attempted now.
        public var retryAll = false

        public init(changed: [QueueID] = [], retry: [QueueID] = [], retryAll: Bool = false) {
            self.changed = changed
            self.retry = retry
            self.retryAll = retryAll
        }
    }

    public enum NoticeKind: Sendable {
        case changed, retry, retryAll
    }

    /// Leaves a notice (before signalling the daemon): these messages changed, or are to be attempted now.
    public func postNotice(_ ids: [QueueID], kind: NoticeKind = .changed) throws {
        guard !ids.isEmpty || kind == .retryAll else { return }
        try FileSystem.makeDirectory(noticesDir)
        let name = QueueID.generate().rawValue
        let tmp = "\(tmpDir)/notice.\(name)"
        let head = [.changed: "", .retry: "#retry\n", .retryAll: "#retry-all\n"][kind]!
        let text = head + ids.map(\.rawValue).joined(separator: "\n") + (ids.isEmpty ? "" : "\n")
        do {
            try FileSystem.write(Array(text.utf8), to: tmp)
            try FileSystem.rename(tmp, "\(noticesDir)/\(name)")
        } catch {
            try? FileSystem.remove(tmp)
            throw error
        }
    }

    /// Takes (reads and removes) every notice left, oldest first; nil when there is none.
    public func takeNotices() throws -> Notices? {
        let names = try Self.names(in: noticesDir, missingIsEmpty: true).sorted()
        guard !names.isEmpty else { return nil }
        var notices = Notices()
        for name in names {
            let path = "\(noticesDir)/\(name)"
            if let data = FileManager.default.contents(atPath: path) {
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
                let ids = lines.compactMap { QueueID(String($0)) }
                switch lines.first {
                case "#retry": notices.retry += ids
                case "#retry-all": notices.retryAll = true
                default: notices.changed += ids
                }
            }
            try FileSystem.remove(path)
        }
        return notices
    }
}
