// ArchiveKeyRing: the keys that encrypt archived messages at rest (AES-256-GCM,
// swift-crypto). The key file holds one key per line, "ID BASE64-32-BYTES",
// oldest first; the last line's key seals new messages, every key opens the
// messages it sealed. Rotation: `sluice archive keygen` appends a key (restart
// the daemon), `sluice archive rekey` seals every message with the newest
// one, after which older lines may be removed. Only message bytes are sealed:
// metadata and the full-text index stay searchable (encrypt the disk for
// them). The key never reaches a log.

import Crypto
import Foundation

public struct ArchiveKeyRing: Sendable {
    public struct Key: Sendable {
        public let id: String
        /// The 32 bytes (SymmetricKey is not Sendable; one is made per use).
        let bytes: [UInt8]
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    public let keys: [Key]
    public var current: Key { keys[keys.count - 1] }

    /// Sealed bodies start with this, then the key id's length (one byte) and the id, then AES-GCM's
    /// combined nonce, ciphertext and tag. Anything else is a plain (deflated) body of an earlier version.
    static let magic: [UInt8] = Array("SLA1".utf8)

    public init(keys: [Key]) {
        precondition(!keys.isEmpty, "a key ring needs a key")
        self.keys = keys
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a key file; errors name the line (never the key).
    public static func load(file: String) throws(Invalid) -> ArchiveKeyRing {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw Invalid(description: "\(file): cannot read the archive key file (\(error.localizedDescription))")
        }
        var keys: [Key] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].utf8.count < 256, let bytes = Data(base64Encoded: String(parts[1])), bytes.count == 32 else {
                throw Invalid(description: "\(file):\(n + 1): expected 'ID BASE64' with a 32-byte key (sluice archive keygen writes them)")
            }
            keys.append(Key(id: String(parts[0]), bytes: [UInt8](bytes)))
        }
        guard !keys.isEmpty else { throw Invalid(description: "\(file): no key (sluice archive keygen --out \(file) makes one)") }
        return ArchiveKeyRing(keys: keys)
    }

    /// A new key's line for the key file.
    public static func newKeyLine(id: String) -> String {
        let key = SymmetricKey(size: .bits256)
        return "\(id) " + key.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// AES-256-GCM with the newest key, the key id in front (any key file of this format: the archive's, a KEK).
    public func seal(_ plain: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.seal(plain, using: current.key)
        guard let combined = box.combined else { throw ArchiveError("AES-GCM gave no combined box") }
        let id = Array(current.id.utf8)
        return Self.magic + [UInt8(id.count)] + id + Array(combined)
    }

    static func isSealed(_ body: [UInt8]) -> Bool { body.starts(with: magic) && body.count > magic.count + 1 }

    /// The key id a sealed body names.
    static func keyID(of body: [UInt8]) -> String? {
        guard isSealed(body) else { return nil }
        let length = Int(body[magic.count])
        guard body.count > magic.count + 1 + length else { return nil }
        return String(decoding: body[(magic.count + 1)..<(magic.count + 1 + length)], as: UTF8.self)
    }

    /// Opens what `seal` made with any key of the ring.
    public func open(_ body: [UInt8]) throws -> [UInt8] {
        guard let id = Self.keyID(of: body) else { throw ArchiveError("a sealed message is damaged (no key id)") }
        guard let key = keys.first(where: { $0.id == id }) else {
            throw ArchiveError("the message is sealed with key '\(id)', which the archive key file does not hold")
        }
        let start = Self.magic.count + 1 + id.utf8.count
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: body[start...]), using: key.key))
        } catch {
            throw ArchiveError("a sealed message does not open with key '\(id)' (damaged, or the key file's key changed)")
        }
    }
}
