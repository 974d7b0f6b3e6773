// The contract of DKIMKeyStore, written against the protocol: a key kept is
// read back and never replaced; the keys in force are those configured, with
// their states and (unless retired) their private keys; a missing key is
// reported, not skipped; a state change either happens or names the entry to
// edit.

import Foundation
import SluiceConfig
import SluiceMailAuth
import XCTest

public struct DKIMKeyStoreContract {
    let make: () throws -> any DKIMKeyStore

    public init(make: @escaping () throws -> any DKIMKeyStore) { self.make = make }

    public func run() async throws {
        let store = try make()
        let pem = try DKIMKeys.generate(.ed25519SHA256)
        let kept = try await store.add(domain: "Example.test", selector: "s2", algorithm: .ed25519SHA256, privateKeyPEM: pem)
        XCTAssertFalse(kept.isEmpty, "says where the key is kept")
        let readBack = try await store.privateKey(domain: "example.test", selector: "s2")
        XCTAssertEqual(readBack, pem)
        let none = try await store.privateKey(domain: "example.test", selector: "nope")
        XCTAssertNil(none)
        await XCTAssertThrowsAsync(
            try await store.add(domain: "example.test", selector: "s2", algorithm: .ed25519SHA256, privateKeyPEM: pem), "a key is never replaced")

        func entry(_ selector: String, _ state: DKIMKeySettings.State, file: String) -> DKIMKeySettings {
            var k = DKIMKeySettings(domain: "example.test", selector: selector, keyFile: file)
            k.algorithm = .ed25519SHA256
            k.state = state
            k.location = "sluice.yaml:9:5"
            return k
        }
        let configured = [
            entry("s2", .active, file: kept), entry("s3", .retired, file: kept + ".gone"), entry("s4", .publishOnly, file: kept + ".missing"),
        ]
        let keys = try await store.keys(configured: configured)
        let bySelector = Dictionary(uniqueKeysWithValues: keys.map { ($0.selector, $0) })
        XCTAssertEqual(bySelector["s2"]?.state, .active)
        XCTAssertEqual(bySelector["s2"]?.privateKeyPEM, pem)
        XCTAssertEqual(bySelector["s2"]?.name, "s2._domainkey.example.test")
        XCTAssertEqual(bySelector["s3"]?.state, .retired)
        XCTAssertNil(bySelector["s3"]?.privateKeyPEM, "a retired key is not read")
        XCTAssertNil(bySelector["s4"]?.privateKeyPEM)
        XCTAssertNotNil(bySelector["s4"]?.problem, "a key that cannot be read is reported")

        do {
            try await store.setState(domain: "example.test", selector: "s2", state: .retired, configured: configured)
            let after = try await store.keys(configured: configured)
            XCTAssertEqual(after.first { $0.selector == "s2" }?.state, .retired, "a store that changes states shows the change")
        } catch let e as DKIMKeyStoreError {
            XCTAssertTrue(e.description.contains("s2._domainkey.example.test"), "names the entry to edit: \(e)")
        }
        // Setting the state a key has is no change, never an error.
        try await store.setState(domain: "example.test", selector: "s4", state: .publishOnly, configured: configured)
    }
}
