// ArchiveStoreOpener: the daemon's archive store, opened the first time it is
// needed, so that archives added by a reload are delivered by the next
// message (R-CORE-4) and a configuration without archives creates no file.
// A store that cannot be opened is an error of that delivery (retried), not
// of the start.

import Foundation
import NIOConcurrencyHelpers
import SluiceConfig

public final class ArchiveStoreOpener: Sendable {
    private let path: String
    private let keyFile: @Sendable () -> String?
    private let box = NIOLockedValueBox<(any ArchiveStore)?>(nil)

    /// `keyFile`: the encryption key file of the configuration in force when the store is first opened.
    public init(path: String, keyFile: @escaping @Sendable () -> String?) {
        self.path = path
        self.keyFile = keyFile
    }

    /// The store, opening it now if nothing has yet.
    public func store() throws -> any ArchiveStore {
        try box.withLockedValue { opened in
            if let opened { return opened }
            let keys = try keyFile().map { try ArchiveKeyRing.load(file: $0) }
            let store = try SQLiteArchiveStore(path: path, keys: keys)
            opened = store
            return store
        }
    }

    /// The store when it is open or an archive file exists (the purge has nothing to do otherwise).
    public func storeIfPresent() throws -> (any ArchiveStore)? {
        if let opened = box.withLockedValue({ $0 }) { return opened }
        return FileManager.default.fileExists(atPath: path) ? try store() : nil
    }
}
