// A command run as root on a data directory another user owns (the package's
// /var/lib/sluice, the `sluice` user's) acts as that user, so that what it
// creates there — the credentials database and its WAL files, state files,
// DKIM keys — stays usable by the daemon, which runs as that user. Like
// `sudo -u sluice sluice ...`, without having to know it.

import Foundation
import SluiceConfig

#if canImport(Glibc)
import Glibc
#endif

enum DataDirectoryOwner {
    /// Becomes the owner of `config.dataDir` (user, group, supplementary groups, the unit's umask 0027)
    /// when running as root and the directory is someone else's; otherwise does nothing.
    static func adopt(_ config: SluiceConfiguration) throws {
        guard geteuid() == 0 else { return }
        var st = stat()
        guard stat(config.dataDir, &st) == 0, st.st_uid != 0 else { return }
        let (uid, gid) = (st.st_uid, st.st_gid)
        var failed = false
        if let account = getpwuid(uid) {
            failed = initgroups(account.pointee.pw_name, gid) != 0
        } else {
            failed = setgroups(0, nil) != 0
        }
        if failed || setgid(gid) != 0 || setuid(uid) != 0 {
            throw UserError("cannot act as the owner (uid \(uid)) of \(config.dataDir): \(String(cString: strerror(errno)))")
        }
        umask(0o027)
    }
}

extension ConfigOption {
    /// The configuration, for a command that writes into the data directory: as its owner when run as root.
    func loadAsDataOwner() throws -> SluiceConfiguration {
        let config = try load()
        try DataDirectoryOwner.adopt(config)
        return config
    }
}
