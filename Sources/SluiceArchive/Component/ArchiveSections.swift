// The archive's sections (R-ARCHIVE-1): `archives: { NAME: { retention: 365d |
// permanent } }`, the archives `archive:` rule actions keep copies in, and
// `archive_encryption: { key_file: PATH }`, which seals archived message bytes
// with AES-256-GCM (the file's last key seals, every key opens; `sluice
// archive keygen` writes keys).

import SluiceConfig

public struct ArchiveSettings: Sendable, Equatable {
    public var name: String
    /// Seconds a message is kept; nil keeps it for ever.
    public var retention: Double?

    public init(name: String, retention: Double?) {
        self.name = name
        self.retention = retention
    }
}

public struct ArchivesSection: ConfigSection {
    public static let key = "archives"
    public var archives: [String: ArchiveSettings] = [:]

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let a = node else { return }
        for (name, node) in try a.namedEntries() {
            let m = try node.mapping(allowed: ["retention"])
            var retention: Double? = 365 * 86400
            if let r = m["retention"] {
                retention = try r.string().lowercased() == "permanent" ? nil : r.duration()
            }
            archives[name] = ArchiveSettings(name: name, retention: retention)
        }
    }
}

public struct ArchiveEncryptionSection: ConfigSection {
    public static let key = "archive_encryption"
    /// nil: archived messages are stored unencrypted.
    public var keyFile: String?

    public init(_ node: ConfigNode?, _ context: ConfigContext) throws {
        guard let e = node else { return }
        let m = try e.mapping(allowed: ["key_file"])
        guard let k = m["key_file"] else { throw e.error("archive_encryption needs key_file: (sluice archive keygen --out FILE makes one)") }
        keyFile = context.resolve(try k.nonEmptyString())
    }
}

extension SluiceConfiguration {
    /// The configured archives (none when the archive component is not in the list).
    public var archives: [String: ArchiveSettings] { section(ArchivesSection.self)?.archives ?? [:] }
    /// The archive encryption key file, if any.
    public var archiveKeyFile: String? { section(ArchiveEncryptionSection.self)?.keyFile }
}
