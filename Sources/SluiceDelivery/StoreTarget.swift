// StoreTarget: the `store` route. Writes the final message as QUEUEID.eml into
// a directory (QUEUEID-VARIANT.eml for a copy whose route added headers, tags
// or a signature, so that two routes into one directory keep both copies): to
// a hidden temporary name, fsync, rename, fsync the directory. Idempotent by
// queue id and variant, so a redelivery after a crash replaces, not duplicates.

import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import SluiceCore
import SluiceQueue

public struct StoreTarget: DeliveryTarget {
    /// Blocking file work runs here, never on the cooperative pool.
    let io: NIOThreadPool
    /// One group-commit syncer per directory, shared by concurrent deliveries.
    private let syncers = NIOLockedValueBox<[String: DirectorySync]>([:])

    public init(io: NIOThreadPool) { self.io = io }

    private func syncer(_ directory: String) -> DirectorySync {
        syncers.withLockedValue { map in
            if let s = map[directory] { return s }
            let s = DirectorySync(path: directory)
            map[directory] = s
            return s
        }
    }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        guard route.kind == "store", !route.instance.isEmpty else {
            throw SMTPError(554, .init(5, 3, 0), "Internal routing error", reason: "StoreTarget got \(route)")
        }
        let directory = route.instance
        try await io.runIfActive { try write(message, into: directory) }
        return DeliveryReport(detail: "\(directory)/\(Self.fileName(message))")
    }

    static func fileName(_ message: OutgoingMessage) -> String {
        message.variant.isEmpty ? "\(message.envelope.queueID).eml" : "\(message.envelope.queueID)-\(message.variant).eml"
    }

    private func write(_ message: OutgoingMessage, into directory: String) throws {
        try FileSystem.makeDirectory(directory)
        let name = Self.fileName(message)
        let tmp = "\(directory)/.\(name).tmp"
        let file = try SpoolFile(creating: tmp)
        do {
            try file.write(message.prefixBytes)
            try QueueFileReader.chunks(message.bodyPath, offset: message.bodyOffset, length: message.remainingLength) { try file.write($0) }
            try file.sync()
            try file.close()
            try FileSystem.rename(tmp, "\(directory)/\(name)")
            try syncer(directory).sync()
        } catch {
            file.discard()
            throw error
        }
    }

}

/// The `bounce` rule action as a delivery target: it always fails with the
/// rule's reply, so the queue's ordinary failure path sends the DSN.
public struct BounceTarget: DeliveryTarget {
    public init() {}

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        guard let (code, status, text) = route.bounceReply else {
            throw SMTPError(451, .init(4, 3, 5), "Internal routing error", reason: "BounceTarget got \(route)")
        }
        throw SMTPError(code, status, text, reason: "bounced by rule")
    }
}
