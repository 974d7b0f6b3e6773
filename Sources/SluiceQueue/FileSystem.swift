// Small POSIX helpers with errors that say which file: write-all, fsync a file
// or a directory, atomic rename. Blocking: callers run them off the event loops.

import CSyncFS
import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct FileSystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let code: Int32

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

public enum FileSystem {
    @discardableResult
    static func check(_ result: Int32, _ operation: String, _ path: String) throws -> Int32 {
        if result < 0 { throw FileSystemError(operation: operation, path: path, code: errno) }
        return result
    }

    public static func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public static func syncDirectory(_ path: String) throws {
        let fd = try check(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", path)
        defer { close(fd) }
        try check(fsync(fd), "fsync", path)
    }

    public static func rename(_ from: String, _ to: String) throws {
        try check(Glibc.rename(from, to), "rename", from)
    }

    public static func remove(_ path: String) throws {
        if unlink(path) < 0 && errno != ENOENT { throw FileSystemError(operation: "unlink", path: path, code: errno) }
    }

    /// Writes bytes to a new file (mode 0640), fsyncs it, and closes it.
    public static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let file = try SpoolFile(creating: path)
        try file.write(bytes)
        try file.sync()
        try file.close()
    }

    /// Writes bytes to a new file (mode 0640) and closes it, without fsync (a batch is made durable by `syncFileSystem`).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try SpoolFile(creating: path)
        try file.write(bytes)
        try file.close()
    }

    /// Flushes every file written on the filesystem holding `path` (syncfs): one wait for a batch of files instead
    /// of an fsync each.
    public static func syncFileSystem(containing path: String) throws {
        let fd = try check(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", path)
        defer { close(fd) }
        try check(sluice_syncfs(fd), "syncfs", path)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// A descriptor for reading (the caller closes it); nil when the file does not exist.
    static func openForReading(_ path: String) throws -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { return fd }
        if errno == ENOENT { return nil }
        throw FileSystemError(operation: "open", path: path, code: errno)
    }
}

/// A file being written: the spool of a message in flight. Not thread-safe:
/// one writer at a time (the connection that owns it).
public final class SpoolFile: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    public private(set) var bytesWritten = 0

    public init(creating path: String) throws {
        self.path = path
        fd = try FileSystem.check(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640), "create", path)
    }

    /// Opens an existing file to add to its end.
    public init(appendingTo path: String) throws {
        self.path = path
        fd = try FileSystem.check(open(path, O_WRONLY | O_APPEND | O_CLOEXEC), "open", path)
        let end = lseek(fd, 0, SEEK_END)
        if end < 0 { throw FileSystemError(operation: "seek", path: path, code: errno) }
        bytesWritten = Int(end)
    }

    /// Bytes in the file: what was there when opened plus what was written since.
    public var offset: Int { bytesWritten }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "write", path: path, code: errno)
            }
            offset += n
        }
        bytesWritten += bytes.count
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func sync() throws { try FileSystem.check(fsync(fd), "fsync", path) }

    public func close() throws {
        guard fd >= 0 else { return }
        let r = Glibc.close(fd)
        fd = -1
        try FileSystem.check(r, "close", path)
    }

    /// Closes and deletes the file (an aborted message).
    public func discard() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
        _ = unlink(path)
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }
}
