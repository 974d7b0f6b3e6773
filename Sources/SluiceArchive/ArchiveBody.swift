// ArchiveBody: how every archive store keeps a message's bytes: deflated
// (zlib, level 1), then sealed with the key ring's newest key when
// archive_encryption is on (ArchiveKeyRing). The same bytes on SQLite and on
// PostgreSQL, so that `sluice storage copy` moves them as they are and either
// backend opens what the other sealed.

public enum ArchiveBody {
    /// What a store keeps of `raw`.
    public static func pack(_ raw: [UInt8], keys: ArchiveKeyRing?) throws -> [UInt8] {
        let packed = try Deflate.compress(raw)
        return try keys?.seal(packed) ?? packed
    }

    /// The message bytes of a kept body of `size` bytes.
    public static func unpack(_ body: [UInt8], size: Int, keys: ArchiveKeyRing?) throws -> [UInt8] {
        try Deflate.decompress(try unseal(body, keys: keys), size: size)
    }

    static func unseal(_ body: [UInt8], keys: ArchiveKeyRing?) throws -> [UInt8] {
        guard ArchiveKeyRing.isSealed(body) else { return body }
        guard let keys else {
            throw ArchiveError("the message is sealed (archive_encryption), and no key_file is configured to open it")
        }
        return try keys.open(body)
    }

    /// The body sealed with the ring's newest key; nil when it already is (`sluice archive rekey`).
    public static func resealed(_ body: [UInt8], keys: ArchiveKeyRing) throws -> [UInt8]? {
        guard ArchiveKeyRing.keyID(of: body) != keys.current.id else { return nil }
        return try keys.seal(try unseal(body, keys: keys))
    }
}
