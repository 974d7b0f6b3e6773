// The storage contracts of credentials (R-AUTH): the credentials themselves
// and the failed-login counts behind the AUTH throttle. Async, so that a
// backend shared by several nodes (a database) fits behind them;
// SQLiteCredentialStore and MemoryAuthFailures are the embedded ones, and
// the contract suite (Tests/SluiceStoreContracts) runs against any.

import Foundation

public protocol CredentialStoring: Sendable {
    /// Creates a credential (and its principal if new); returns the secret, shown once.
    func add(user: String, name: String, allowFrom: [String]?, expiresIn: Double?) async throws -> String
    /// Issues a new secret for USER/NAME; the old one keeps working for `overlap` seconds.
    func rotate(user: String, name: String, overlap: Double) async throws -> String
    /// Revokes every secret of USER/NAME (the device) at once; returns what it revoked.
    @discardableResult
    func revoke(user: String, name: String) async throws -> [CredentialInfo]
    /// Revokes one secret by its id; returns it.
    @discardableResult
    func revoke(user: String, id: Int64) async throws -> [CredentialInfo]
    /// Changes what USER may send as; returns the new list.
    @discardableResult
    func allow(user: String, add: [String], remove: [String]) async throws -> [String]
    func list() async throws -> [CredentialInfo]
    /// Checks USER/secret against every usable credential of USER, records its use, and returns its name (nil: no match).
    func authenticate(user: String, secret: String) async throws -> String?
    /// What USER may use as sender; empty when nothing is configured.
    func allowedSenders(user: String) async throws -> SenderAllowList
}

/// Failed AUTH attempts by key ("ip:192.0.2.1", "user:alice"), for the throttle (R-AUTH-3).
public protocol AuthFailureCounting: Sendable {
    /// Records a failure for each key at `at`; returns, per key, the failures within the last `window` seconds (this one
    /// included).
    func recordFailure(keys: [String], at: Date, window: Double) async -> [Int]
    /// The failures of a key within `window` seconds before `at`.
    func failures(key: String, at: Date, window: Double) async -> Int
    /// Forgets the failures of a key (a success clears the user's).
    func clear(key: String) async
}

/// A credential store's whole content as stored (hashes, never secrets), to copy it to another backend
/// (`sluice storage copy`).
public struct CredentialExport: Sendable, Equatable {
    public struct Principal: Sendable, Equatable {
        public var name: String
        public var allowFrom: [String]
        public var createdAt: Date

        public init(name: String, allowFrom: [String], createdAt: Date) {
            self.name = name
            self.allowFrom = allowFrom
            self.createdAt = createdAt
        }
    }

    public struct Credential: Sendable, Equatable {
        public var info: CredentialInfo
        public var hash: [UInt8]

        public init(info: CredentialInfo, hash: [UInt8]) {
            self.info = info
            self.hash = hash
        }
    }

    public var principals: [Principal] = []
    public var credentials: [Credential] = []

    public init(principals: [Principal] = [], credentials: [Credential] = []) {
        self.principals = principals
        self.credentials = credentials
    }
}

/// Copying a credential store: what it holds, and taking in another's (users it has already are kept as they are).
public protocol CredentialCopying: Sendable {
    func exportAll() async throws -> CredentialExport
    /// Adds the users this store does not have yet, with their credentials; returns how many credentials were added.
    func importAll(_ export: CredentialExport) async throws -> Int
}
