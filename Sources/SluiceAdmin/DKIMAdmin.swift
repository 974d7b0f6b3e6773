// DKIMAdmin: `sluice dkim keygen|dns|activate|retire` (R-MAUTH-2,
// R-DELIVER-7) as operations on whatever DKIMKeyStore the storage backend
// gives. Rotation: add the new selector as publish-only, publish its record,
// make it active beside the old one, then retire the old one and remove its
// record once no mail signed with it is in flight.

import Foundation
import SluiceConfig
import SluiceMailAuth

public struct DKIMAdmin: Sendable {
    public let store: any DKIMKeyStore
    /// The configuration's `dkim:` list (the embedded store's states).
    public let configured: [DKIMKeySettings]

    public init(store: any DKIMKeyStore, configured: [DKIMKeySettings]) {
        self.store = store
        self.configured = configured
    }

    public struct Generated: Sendable {
        public let pem: String
        /// The TXT record to publish (without the name).
        public let record: String
    }

    /// A new key and its record (nothing kept yet).
    public static func generate(algorithm: DKIMAlgorithm, bits: Int) throws -> Generated {
        do {
            let pem = try DKIMKeys.generate(algorithm, bits: bits)
            return Generated(pem: pem, record: try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: algorithm))
        } catch { throw AdminError("\(error)") }
    }

    /// Keeps a new key in the store; returns where.
    public func keep(_ key: Generated, domain: String, selector: String, algorithm: DKIMKeySettings.Algorithm) async throws -> String {
        do {
            return try await store.add(domain: domain.lowercased(), selector: selector, algorithm: algorithm, privateKeyPEM: key.pem)
        } catch let e as DKIMKeyStoreError { throw AdminError(e.description) }
    }

    public struct Record: Sendable {
        public let key: DKIMKeyRecord
        /// The TXT record to publish; nil for a retired key (its record can go).
        public let txt: String?
    }

    /// Every key's record: active and publish-only ones to publish, retired ones to remove.
    public func records() async throws -> [Record] {
        try await store.keys(configured: configured).map { k in
            guard k.state != .retired else { return Record(key: k, txt: nil) }
            guard let pem = k.privateKeyPEM else { throw AdminError("\(k.location): \(k.problem ?? "no private key for \(k.name)")") }
            do {
                return Record(key: k, txt: try DKIMKeys.txtRecord(privateKeyPEM: pem, algorithm: DKIMAlgorithm(k.algorithm)))
            } catch {
                throw AdminError("\(k.location): \(k.storedAt): \(error)")
            }
        }
    }

    public func setState(domain: String, selector: String, state: DKIMKeySettings.State) async throws {
        do {
            try await store.setState(domain: domain, selector: selector, state: state, configured: configured)
        } catch let e as DKIMKeyStoreError { throw AdminError(e.description) }
    }
}
