// ArchiveReader: the members of every archive format besides zip and gzip —
// tar (ustar, pax, GNU), cpio, 7z, rar, ISO 9660, and xz, bzip2, zstd and lz4
// streams (alone or around a tar) — read with libarchive from memory, one
// member at a time. The caller decides, member by member, whether to read its
// bytes (and bounds them as they come); libarchive's errors become reasons:
// an encrypted member or header is `encrypted`, a damaged archive `corrupt`.

import CArchive
import Foundation

struct ArchiveReader: ~Copyable {
    /// One member's header.
    struct Member {
        var name: String
        var isFile: Bool
        var isEncrypted: Bool
        /// As the header declares it (0 when it does not).
        var declaredSize: Int
    }

    enum Failure: Error, Equatable {
        case encrypted(String)
        case corrupt(String)
    }

    /// AE_IFREG (a macro with a cast, which Swift does not import).
    private static let regularFile: UInt32 = 0o100000
    private let handle: OpaquePointer
    private let bytes: UnsafeMutableRawBufferPointer

    /// Opens `data` (copied: libarchive reads it as the members are asked for). Throws when no format reads it.
    init(_ data: ArraySlice<UInt8>) throws(Failure) {
        guard let a = archive_read_new() else { throw .corrupt("libarchive could not start") }
        archive_read_support_filter_all(a)
        // The formats this reader is for. Not zip: a zip (or a docx) inside an xz stream is one member, opened by
        // Sluice's own zip reader, which streams Office XML as text and skips layout parts.
        archive_read_support_format_tar(a)
        archive_read_support_format_cpio(a)
        archive_read_support_format_7zip(a)
        archive_read_support_format_rar(a)
        archive_read_support_format_rar5(a)
        archive_read_support_format_iso9660(a)
        // A bare compressed stream (an .xz of a PDF) is one member named "data"; bids last, after every archive format.
        archive_read_support_format_raw(a)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, data.count), alignment: 8)
        if !data.isEmpty { data.withUnsafeBytes { copy.copyMemory(from: $0) } }
        guard archive_read_open_memory(a, copy.baseAddress, data.count) == ARCHIVE_OK else {
            let why = Self.message(a)
            archive_read_free(a)
            copy.deallocate()
            throw .corrupt(why)
        }
        handle = a
        bytes = copy
    }

    deinit {
        archive_read_free(handle)
        bytes.deallocate()
    }

    /// The format libarchive recognised ("POSIX pax interchange format", "7-Zip", "RAW").
    var formatName: String { archive_format_name(handle).map { String(cString: $0) } ?? "archive" }
    /// A bare compressed stream rather than an archive of members.
    var isRawStream: Bool { archive_format(handle) == ARCHIVE_FORMAT_RAW }

    /// The next member's header; nil at the end.
    mutating func next() throws(Failure) -> Member? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw failure() }
        let name = archive_entry_pathname_utf8(entry).map { String(cString: $0) }
            ?? archive_entry_pathname(entry).map { String(cString: $0) } ?? "(unnamed)"
        return Member(
            name: name, isFile: archive_entry_filetype(entry) == Self.regularFile || isRawStream,
            isEncrypted: archive_entry_is_encrypted(entry) != 0,
            declaredSize: archive_entry_size_is_set(entry) != 0 ? Int(archive_entry_size(entry)) : 0)
    }

    /// The current member's bytes, a piece at a time; `piece` returns false to stop reading it.
    mutating func read(_ piece: ([UInt8]) -> Bool) throws(Failure) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { archive_read_data(handle, $0.baseAddress, $0.count) }
            if n == 0 { return }
            guard n > 0 else { throw failure() }
            guard piece(Array(buffer[0..<n])) else { return }
        }
    }

    /// libarchive's last error, as a reason: encryption it cannot read, or damage.
    private func failure() -> Failure {
        let why = Self.message(handle)
        if archive_read_has_encrypted_entries(handle) > 0 || why.lowercased().contains("encrypt") || why.lowercased().contains("passphrase") {
            return .encrypted(why)
        }
        return .corrupt(why)
    }

    private static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unreadable archive"
    }
}
