// CredentialsAdmin: `sluice creds add|list|rotate|revoke|allow`, as
// operations on whatever CredentialStoring the storage backend gives: the
// CLI parses and prints, an HTTP admin API will call the same. A mistake the
// operator can fix is an AdminError.

import Foundation
import SluiceCredentials

public struct CredentialsAdmin: Sendable {
    public let store: any CredentialStoring

    public init(store: any CredentialStoring) { self.store = store }

    public struct Added: Sendable {
        /// Shown once, never stored.
        public let secret: String
        /// The user may not send as any address yet (no --allow-from).
        public let mayNotSendYet: Bool
    }

    public func add(user: String, name: String, allowFrom: [String]?, expiresIn: Double?) async throws -> Added {
        try await mapped {
            let secret = try await store.add(user: user, name: name, allowFrom: allowFrom, expiresIn: expiresIn)
            return Added(secret: secret, mayNotSendYet: try await store.allowedSenders(user: user).isEmpty)
        }
    }

    public func list() async throws -> [CredentialInfo] { try await mapped { try await store.list() } }

    public func rotate(user: String, name: String, overlap: Double) async throws -> String {
        try await mapped { try await store.rotate(user: user, name: name, overlap: overlap) }
    }

    /// One secret by id, or every secret of a device by name.
    public func revoke(user: String, id: Int64?, name: String?) async throws -> [CredentialInfo] {
        try await mapped {
            if let id { return try await store.revoke(user: user, id: id) }
            return try await store.revoke(user: user, name: name ?? "")
        }
    }

    public func allow(user: String, add: [String], remove: [String]) async throws -> [String] {
        try await mapped { try await store.allow(user: user, add: add, remove: remove) }
    }

    private func mapped<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let e as CredentialError { throw AdminError(e.description) }
    }
}
