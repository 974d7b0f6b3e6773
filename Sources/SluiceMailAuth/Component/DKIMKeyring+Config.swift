// The DKIM keyring of a runtime: every `active` key's file is read and tried
// once, so that a bad key stops `sluice check`, the start, or a reload (which
// then keeps the old runtime), never a delivery.

import Foundation
import SluiceConfig
import SluicePipeline

extension DKIMKeyring {
    /// The keyring of the keys that are active; an active key whose private key could not be read, or does not sign,
    /// is an error of the runtime (the start or the reload does not happen).
    public static func load(_ keys: [DKIMKeyRecord]) throws -> DKIMKeyring {
        var signers: [DKIMSigner] = []
        for k in keys where k.state == .active {
            signers.append(try dkimSigner(k))
        }
        return DKIMKeyring(signers)
    }

    static func dkimSigner(_ k: DKIMKeyRecord) throws -> DKIMSigner {
        guard let pem = k.privateKeyPEM else {
            throw RuntimeError(
                "\(k.location): dkim: \(k.problem ?? "no private key for \(k.name)"); make it with "
                    + "`sluice dkim keygen --domain \(k.domain) --selector \(k.selector)`")
        }
        var key = DKIMSigner.Key(domain: k.domain, selector: k.selector, algorithm: DKIMAlgorithm(k.algorithm), privateKeyPEM: pem)
        if let h = k.headers { key.signedHeaders = h }
        if let o = k.oversign { key.oversignedHeaders = o }
        do {
            return try DKIMSigner(key: key)
        } catch {
            throw RuntimeError("\(k.location): dkim: the key \(k.storedAt) does not sign as \(k.algorithm.rawValue): \(error)")
        }
    }
}

extension DKIMAlgorithm {
    /// The algorithm a `dkim:` entry names.
    public init(_ a: DKIMKeySettings.Algorithm) {
        switch a {
        case .rsaSHA256: self = .rsaSHA256
        case .ed25519SHA256: self = .ed25519SHA256
        }
    }
}
