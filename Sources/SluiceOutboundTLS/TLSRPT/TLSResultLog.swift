// TLSResultLog: appends each TLS session result of `send` to the day's file
// (data_dir/tlsrpt/results/DATE.jsonl), on the file thread pool, so that
// the reports of a day can be made by the daemon or by `sluice tlsrpt send`
// from what was recorded, across restarts. Lines are appended whole; a line
// cut short by a crash is skipped when read.

import Foundation
import Logging
import NIOPosix

actor TLSResultLog {
    let directory: String
    let io: NIOThreadPool
    let logger: Logger
    private var warned = false

    init(directory: String, io: NIOThreadPool, logger: Logger) {
        self.directory = directory
        self.io = io
        self.logger = logger
    }

    func append(_ record: TLSResultRecord) async {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        guard let line = try? encoder.encode(record) else { return }  // a record of strings and a date always encodes
        let path = "\(directory)/\(TLSResultRecord.day(record.at)).jsonl"
        let dir = directory
        do {
            try await io.runIfActive {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }  // a close that fails after the write leaves the line written
                try handle.seekToEnd()
                try handle.write(contentsOf: line + Data("\n".utf8))
            }
        } catch {
            // Reporting is best effort: delivery goes on; the first failure is logged.
            if !warned {
                warned = true
                logger.warning("TLS session results are not being recorded", metadata: ["file": "\(path)", "reason": "\(error)"])
            }
        }
    }

    /// The results recorded for a day (UTC), in order; unreadable lines skipped.
    static func read(directory: String, day: String) -> [TLSResultRecord] {
        guard let data = FileManager.default.contents(atPath: "\(directory)/\(day).jsonl") else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(TLSResultRecord.self, from: Data($0)) }
    }
}
