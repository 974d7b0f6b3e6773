// The embedded DKIM key store (key files; states in the configuration) passes
// the contract, and says which entry to edit to change a state.

import Foundation
import SluiceConfig
import SluiceStoreContracts
import XCTest

@testable import SluiceMailAuth

final class DKIMKeyStoreTests: XCTestCase {
    func testTheFileStorePassesTheContract() async throws {
        let dir = NSTemporaryDirectory() + "sluice-dkim-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try await DKIMKeyStoreContract { FileDKIMKeyStore(directory: dir) }.run()
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/example.test.s2.pem")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        var k = DKIMKeySettings(domain: "example.test", selector: "s2", keyFile: dir + "/example.test.s2.pem")
        k.location = "/etc/sluice/sluice.yaml:40:5"
        do {
            try await FileDKIMKeyStore(directory: dir).setState(domain: "example.test", selector: "s2", state: .retired, configured: [k])
            XCTFail("the embedded store changed a state the configuration holds")
        } catch let e as DKIMKeyStoreError {
            XCTAssertTrue(e.description.hasPrefix("/etc/sluice/sluice.yaml:40:5: with storage.backend sqlite"), "\(e)")
            XCTAssertTrue(e.description.contains("set state: retired"), "\(e)")
        }
    }
}
