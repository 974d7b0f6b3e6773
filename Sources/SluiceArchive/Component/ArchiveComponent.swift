// ArchiveComponent: the archive as a component (R-ARCHIVE). It reads
// `archives:` and `archive_encryption:`; rules `archive: NAME` (an archive
// that is not configured fails to load); the daemon opens the store, delivers
// the archive routes of the queue into it (with the text the inspect stage
// already decoded), and purges what is past retention.

import SluiceConfig
import SluiceCore
import SluiceDLP
import SluicePipeline

public struct ArchiveComponent: Component {
    public let name = "archive"
    public var sections: [any ConfigSection.Type] { [ArchivesSection.self, ArchiveEncryptionSection.self] }

    public init() {}

    public func configure(_ runtime: inout RuntimeBuilder) async throws {
        let archives = Set(runtime.config.archives.keys)
        try runtime.declareTarget(kind: "archive", instances: archives)
        try runtime.add(ArchiveActionKind(archives: archives))
        // The inspect stage's walk collects the archive's text, so the delivery does not walk the message again.
        if !archives.isEmpty { runtime.reuse(IndexText.self) }
    }

    public func provideStores(_ stores: inout StoreRegistry) {
        // Opened by the first archive delivery: archives a reload adds work with the next message.
        stores.provide((any ArchiveStore).self) { context in
            EmbeddedArchiveStore(path: context.config.archiveFile, keyFile: context.config.archiveKeyFile, io: context.executors.database)
        }
        stores.provide((any ArchiveCopySource).self) { context in
            EmbeddedArchiveStore(path: context.config.archiveFile, keyFile: context.config.archiveKeyFile, io: context.executors.database)
        }
    }

    public func activate(_ host: inout HostBuilder) throws {
        guard host.mode == .daemon else { return }
        let env = host.environment
        let runtime = env.runtime
        let store = try env.storage.store((any ArchiveStore).self)
        try host.add(
            target: ArchiveTarget(
                store: store, archives: { Set(runtime.current.config.archives.keys) }, io: env.executors.database, cpu: env.executors.cpu,
                handoff: env.handoff),
            kind: "archive")
        host.add(queueObserver: ArchiveTextRelease(handoff: env.handoff))
        host.add(
            service: ArchivePurgeService(store: store, archives: { runtime.current.config.archives }, clock: env.clock, logger: env.logger))
    }
}
