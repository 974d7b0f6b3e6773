// ClamdClient: clamd's INSTREAM command (clamd(8)): the message streamed in
// chunks, each prefixed by its length (4 bytes, network order), then a
// zero-length chunk; clamd answers "stream: OK", "stream: NAME FOUND" or an
// ERROR. One connection per message (ScannerConnection: unix socket or TCP,
// the scanner's timeout on every call).

import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

enum ClamdAnswer: Equatable {
    case clean
    case infected(String)
}

struct ClamdClient {
    let endpoint: ScannerEndpoint

    typealias Failure = ScannerConnection.Failure

    /// Streams the first `length` bytes of the file at `path`.
    func scan(path: String, length: Int) throws -> ClamdAnswer {
        let connection = try ScannerConnection(endpoint)
        do {
            try connection.send(Array("zINSTREAM\0".utf8))
            try connection.send(file: path, length: length) { withUnsafeBytes(of: UInt32($0.count).bigEndian) { Array($0) } + $0 }
            try connection.send([0, 0, 0, 0])
        } catch {
            // clamd closes the stream when the message is over its StreamMaxLength, and says so.
            if let answer = try? Self.reply(connection), !answer.isEmpty { throw Failure(description: "clamd answered '\(answer.prefix(200))'") }
            throw error
        }
        return try Self.parse(try Self.reply(connection))
    }

    /// clamd's answer, up to its NUL.
    static func reply(_ connection: ScannerConnection) throws -> String {
        String(decoding: try connection.receiveAll(limit: 4096, terminator: 0).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// "stream: OK" / "stream: Eicar-Signature FOUND" / "... ERROR".
    static func parse(_ reply: String) throws -> ClamdAnswer {
        let text = reply.trimmingCharacters(in: CharacterSet(charactersIn: "\0\n "))
        if text.hasPrefix("stream:"), text.hasSuffix(" FOUND") {
            let name = text.dropFirst("stream:".count).dropLast(" FOUND".count).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw Failure(description: "clamd answered '\(text)'") }
            return .infected(name)
        }
        if text == "stream: OK" { return .clean }
        throw Failure(description: "clamd answered '\(text.prefix(200))'")
    }
}
