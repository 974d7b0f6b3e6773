// StoreTarget: the `store` route. Writes the final message as QUEUEID.eml into
// a directory: to a hidden temporary name, fsync, rename, fsync the directory.
// Idempotent by queue id, so a redelivery after a crash replaces, not duplicates.

import Foundation
import SluiceCore
import SluiceQueue

public struct StoreTarget: DeliveryTarget {
    public init() {}

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws {
        guard case .store(let directory) = route else {
            throw SMTPError(554, .init(5, 3, 0), "Internal routing error", reason: "StoreTarget got \(route)")
        }
        try FileSystem.makeDirectory(directory)
        let id = message.envelope.queueID
        let tmp = "\(directory)/.\(id).eml.tmp"
        let file = try SpoolFile(creating: tmp)
        do {
            try file.write(message.prefixBytes)
            try copy(from: message.bodyPath, to: file)
            try file.sync()
            try file.close()
            try FileSystem.rename(tmp, "\(directory)/\(id).eml")
            try FileSystem.syncDirectory(directory)
        } catch {
            file.discard()
            throw error
        }
    }

    private func copy(from path: String, to file: SpoolFile) throws {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw SMTPError(451, .init(4, 3, 0), "Queue file missing", reason: "cannot open \(path)")
        }
        defer { try? input.close() }
        while true {
            let chunk = try input.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { try file.write($0) }
        }
    }
}
