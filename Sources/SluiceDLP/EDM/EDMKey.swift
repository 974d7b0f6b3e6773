// EDMKey: the secret that makes an EDM index useless without it. Values are
// stored and looked up as HMAC-SHA-256 (swift-crypto) under this key, cut to
// 64 bits: account numbers have too little entropy for a bare hash (anyone
// could hash every possible number), and without the key the index says
// nothing about them. The key file holds the key in base64 on one line
// (`sluice dlp edm keygen --out FILE`); lines starting with # are comments.

import Crypto
import Foundation

public struct EDMKey: Sendable {
    let bytes: [UInt8]

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Reads a key file; errors never show the key.
    public static func load(file: String) throws(Invalid) -> EDMKey {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw Invalid(description: "\(file): cannot read the EDM key file (\(error.localizedDescription))")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard lines.count == 1, let data = Data(base64Encoded: lines[0]), data.count >= 32 else {
            throw Invalid(description: "\(file): expected one line of base64 holding at least 32 bytes (sluice dlp edm keygen --out FILE writes one)")
        }
        return EDMKey(bytes: [UInt8](data))
    }

    /// A new key file's text.
    public static func newKeyFile() -> String {
        "# Sluice EDM key: values are stored as HMAC-SHA-256 under it. Keep it secret; a new key needs a new import.\n"
            + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
    }

    /// Hashes values under the key; the HMAC's key schedule is done once, each value costs two SHA-256 blocks.
    /// HMAC<SHA256> is a value type (each use copies it), not marked Sendable by swift-crypto.
    struct Hasher: @unchecked Sendable {
        let keyed: HMAC<SHA256>

        init(_ key: EDMKey) { keyed = HMAC<SHA256>(key: SymmetricKey(data: key.bytes)) }

        func hash(_ value: some Sequence<UInt8>) -> UInt64 {
            var h = keyed
            h.update(data: Array(value))
            let mac = h.finalize()
            return mac.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        }
    }

    /// What the index keeps to tell whether it was made with this key (a hash of a fixed string, not the key).
    var check: UInt64 { Hasher(self).hash(Array("sluice edm key check".utf8)) }
}
