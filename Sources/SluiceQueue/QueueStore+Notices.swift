// Notices: how a command in another process tells the daemon which messages
// it changed (released, retried), so the daemon reads just those instead of
// the whole queue. The command writes the ids to a file in notices/ and sends
// SIGUSR1; the daemon takes every notice there at once (signals coalesce). A
// signal with no notice (another tool, an older command) still means "read
// the whole queue". Notices are hints: a lost one costs a retry's delay, never
// a message (the queue files stay the truth, and a restart reads them all).

import Foundation
import SluiceCore

extension QueueStore {
    var noticesDir: String { directory + "/notices" }

    /// Leaves a notice that these messages changed (before signalling the daemon).
    public func postNotice(_ ids: [QueueID]) throws {
        guard !ids.isEmpty else { return }
        try FileSystem.makeDirectory(noticesDir)
        let name = QueueID.generate().rawValue
        let tmp = "\(tmpDir)/notice.\(name)"
        let text = ids.map(\.rawValue).joined(separator: "\n") + "\n"
        do {
            try FileSystem.write(Array(text.utf8), to: tmp)
            try FileSystem.rename(tmp, "\(noticesDir)/\(name)")
        } catch {
            try? FileSystem.remove(tmp)
            throw error
        }
    }

    /// Takes (reads and removes) every notice left: the ids they name, oldest notice first; nil when there is none.
    public func takeNotices() throws -> [QueueID]? {
        let names = try Self.names(in: noticesDir, missingIsEmpty: true).sorted()
        guard !names.isEmpty else { return nil }
        var ids: [QueueID] = []
        for name in names {
            let path = "\(noticesDir)/\(name)"
            if let data = FileManager.default.contents(atPath: path) {
                ids += String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { QueueID(String($0)) }
            }
            try FileSystem.remove(path)
        }
        return ids
    }
}
