// DKIMKeyStore: the storage contract of DKIM signing keys and their states
// (R-MAUTH-2, R-DELIVER-7). The embedded store keeps what it always kept: the
// private keys in files (DATA_DIR/dkim/DOMAIN.SELECTOR.pem, or the paths the
// configuration names) and the states in the configuration's `dkim:` list,
// so changing a state there means editing that list (the store says which
// line); a store shared by several nodes keeps both and changes states
// itself. The contract suite (Tests/SluiceStoreContracts) runs against any.

import Foundation
import SluiceConfig

/// One key as a store knows it.
public struct DKIMKeyRecord: Sendable, Equatable {
    public var domain: String
    public var selector: String
    public var algorithm: DKIMKeySettings.Algorithm
    public var state: DKIMKeySettings.State
    /// The private key (PEM); nil when it could not be read (`problem` says why) or the key is retired.
    public var privateKeyPEM: String?
    public var problem: String?
    /// Where the key is kept (a file, a row), for messages.
    public var storedAt: String
    /// Where the key is configured ("file:line:column"), or "" for a key only the store knows.
    public var location: String
    /// The headers it signs and oversigns (nil: the defaults).
    public var headers: [String]?
    public var oversign: [String]?

    public init(
        domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm, state: DKIMKeySettings.State, privateKeyPEM: String?,
        storedAt: String, location: String = ""
    ) {
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.state = state
        self.privateKeyPEM = privateKeyPEM
        self.storedAt = storedAt
        self.location = location
    }

    /// "s1._domainkey.example.test".
    public var name: String { "\(selector)._domainkey.\(domain)" }
}

public struct DKIMKeyStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public protocol DKIMKeyStore: Sendable {
    /// The keys in force with a configuration whose `dkim:` list is `configured` (the embedded store's whole truth;
    /// a shared store adds the keys and states it keeps). Private keys are read for every key that is not retired.
    func keys(configured: [DKIMKeySettings]) async throws -> [DKIMKeyRecord]
    /// Keeps a new private key for DOMAIN/SELECTOR (never replacing one); returns where it is kept.
    func add(domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm, privateKeyPEM: String) async throws -> String
    /// The private key kept for DOMAIN/SELECTOR, configured or not; nil when there is none.
    func privateKey(domain: String, selector: String) async throws -> String?
    /// Makes a key active, publish-only or retired. A store whose states are the configuration's throws a
    /// DKIMKeyStoreError that names the entry to edit.
    func setState(domain: String, selector: String, state: DKIMKeySettings.State, configured: [DKIMKeySettings]) async throws
}

/// The embedded DKIMKeyStore: key files, states in the configuration.
public struct FileDKIMKeyStore: DKIMKeyStore {
    /// Where new keys go (DATA_DIR/dkim).
    public let directory: String

    public init(directory: String) { self.directory = directory }

    func defaultPath(_ domain: String, _ selector: String) -> String { "\(directory)/\(domain.lowercased()).\(selector).pem" }

    public func keys(configured: [DKIMKeySettings]) async throws -> [DKIMKeyRecord] {
        configured.map { k in
            var r = DKIMKeyRecord(
                domain: k.domain, selector: k.selector, algorithm: k.algorithm, state: k.state, privateKeyPEM: nil, storedAt: k.keyFile,
                location: k.location)
            r.headers = k.headers
            r.oversign = k.oversign
            guard k.state != .retired else { return r }
            do {
                r.privateKeyPEM = try String(contentsOfFile: k.keyFile, encoding: .utf8)
            } catch {
                r.problem = "cannot read the key \(k.keyFile) (\(error.localizedDescription))"
            }
            return r
        }
    }

    public func add(domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm, privateKeyPEM: String) async throws -> String {
        let path = defaultPath(domain, selector)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw DKIMKeyStoreError("\(path) exists; a key is never overwritten (pick a new selector for a new key)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: Data(privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DKIMKeyStoreError("cannot write \(path)")
        }
        return path
    }

    public func privateKey(domain: String, selector: String) async throws -> String? {
        let path = defaultPath(domain, selector)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    public func setState(domain: String, selector: String, state: DKIMKeySettings.State, configured: [DKIMKeySettings]) async throws {
        let name = "\(selector)._domainkey.\(domain.lowercased())"
        guard let entry = configured.first(where: { $0.domain == domain.lowercased() && $0.selector == selector }) else {
            throw DKIMKeyStoreError(
                "\(name) is not in the dkim: list of the configuration; add { domain: \(domain.lowercased()), selector: \(selector), "
                    + "key: \(defaultPath(domain, selector)), state: \(state.rawValue) } to it, then sluice reload")
        }
        guard entry.state != state else { return }
        throw DKIMKeyStoreError(
            "\(entry.location): with storage.backend sqlite, key states are the configuration's: set state: \(state.rawValue) "
                + "on the dkim: entry of \(name) (now \(entry.state.rawValue)), then sluice reload")
    }
}
