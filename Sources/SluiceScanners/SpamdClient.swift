// SpamdClient: SpamAssassin's spamd over SPAMC/1.5 (the protocol spamc
// speaks): "SYMBOLS SPAMC/1.5", the message's length, then the message
// streamed from the spool file (its Received: field tells SpamAssassin the
// client and HELO); spamd answers "SPAMD/1.1 0 EX_OK", a "Spam: True ; 7.3 /
// 5.0" header and the names of the rules that hit. Anything else — a
// non-zero status, no Spam header, a closed connection — is an error, never
// a pass.

import Foundation

struct SpamAnswer: Equatable {
    var isSpam: Bool
    var score: Double
    var threshold: Double
    var symbols: [String]
}

struct SpamdClient {
    let endpoint: ScannerEndpoint
    typealias Failure = ScannerConnection.Failure

    func check(path: String, length: Int) throws -> SpamAnswer {
        let connection = try ScannerConnection(endpoint)
        try connection.send(Array("SYMBOLS SPAMC/1.5\r\nContent-length: \(length)\r\nUser: sluice\r\n\r\n".utf8))
        try connection.send(file: path, length: length)
        return try Self.parse(try connection.receiveAll(limit: 64 << 10))
    }

    static func parse(_ bytes: [UInt8]) throws -> SpamAnswer {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") ?? text.range(of: "\n\n") else {
            throw Failure(description: "spamd answered '\(text.prefix(200))'")
        }
        let head = text[..<split.lowerBound].split(whereSeparator: \.isNewline).map(String.init)
        guard let status = head.first, status.hasPrefix("SPAMD/"), status.split(separator: " ").dropFirst().first == "0" else {
            throw Failure(description: "spamd answered '\(head.first?.prefix(200) ?? "")'")
        }
        guard let spam = head.first(where: { $0.lowercased().hasPrefix("spam:") }) else { throw Failure(description: "spamd sent no Spam: header") }
        // "Spam: True ; 7.3 / 5.0"
        let value = spam.dropFirst(5)
        let parts = value.split(separator: ";", maxSplits: 1)
        let numbers = parts.count == 2 ? parts[1].split(separator: "/").map { Double($0.trimmingCharacters(in: .whitespaces)) } : []
        guard numbers.count == 2, let score = numbers[0], let threshold = numbers[1] else {
            throw Failure(description: "spamd's '\(spam.prefix(200))' does not read as a score")
        }
        let verdict = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        guard verdict == "true" || verdict == "yes" || verdict == "false" || verdict == "no" else {
            throw Failure(description: "spamd's '\(spam.prefix(200))' does not read as a verdict")
        }
        let symbols = text[split.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return SpamAnswer(isSpam: verdict == "true" || verdict == "yes", score: score, threshold: threshold, symbols: symbols)
    }
}
