// `sluice archive keygen|rekey`: the keys that seal archived messages at rest
// (archive_encryption: { key_file: PATH }). keygen writes a new key as the
// file's last line (the one that seals; earlier lines still open what they
// sealed); rekey seals every message with it, after which older lines may go.

import ArgumentParser
import Foundation
import SluiceArchive

extension ArchiveCommand {
    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new archive encryption key to a key file (made with mode 0600); it seals new messages after a restart.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The key file (default: archive_encryption.key_file of the configuration).") var out: String?

        func run() async throws {
            guard let out = try out ?? options.load().archiveKeyFile else {
                throw UserError("give --out FILE, or set archive_encryption: { key_file: FILE } in \(options.path)")
            }
            let id = "k" + Date().formatted(.iso8601.year().month().day()).replacingOccurrences(of: "-", with: "") + "-"
                + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let fm = FileManager.default
            let existing = fm.fileExists(atPath: out) ? (try String(contentsOfFile: out, encoding: .utf8)) : ""
            let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + ArchiveKeyRing.newKeyLine(id: id) + "\n"
            guard fm.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw UserError("cannot write \(out)")
            }
            // createFile keeps an existing file's mode.
            guard chmod(out, 0o600) == 0 else { throw UserError("cannot make \(out) readable by its owner only") }
            print("added key \(id) to \(out) (it seals new archived messages once the daemon restarts; `sluice archive rekey` seals the old ones)")
        }
    }

    struct Rekey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every archived message with the key file's newest key (after keygen; then older keys may be removed).")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let (_, admin) = try ArchiveCommand.open(options)
            let changed = try await admin.rekey()
            print("sealed \(changed) archived message(s) with the newest key")
        }
    }
}
