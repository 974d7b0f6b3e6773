// ArchiveWords: the archive's text index on PostgreSQL, built here rather
// than by PostgreSQL's parser, so that it splits text exactly as the query
// language does (ArchiveTextQuery: runs of letters and digits, any case,
// accents ignored) whatever the database's locale: the document becomes a
// tsvector literal of its words with their positions, and a query a tsquery
// literal (phrases with <->, prefixes with :*, OR with |, exclusions with !).
// Fields are kept a position apart, so a phrase never spans two of them.

import Foundation
import SluiceArchive

enum ArchiveWords {
    /// PostgreSQL's limits: positions run to 16383, 256 per lexeme, lexemes under 2 KiB, a tsvector under 1 MiB.
    static let maxPosition = 16383
    static let maxPositionsPerWord = 256
    static let budget = 900_000

    /// A word as the index keeps it, quoted for a tsvector or tsquery literal.
    static func fold(_ word: String) -> String {
        // Words are letters and digits, lowercased: an ASCII one is folded already (most of them; Foundation's folding
        // is the costly part of indexing a message).
        guard !word.utf8.allSatisfy({ $0 < 0x80 }) else { return word }
        return word.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
    }

    /// The tsvector literal of the fields' words.
    static func document(_ fields: [String]) -> String {
        var positions: [String: [Int]] = [:]
        var order: [String] = []
        var position = 0
        var size = 0
        for field in fields {
            for word in ArchiveTextQuery.words(field).map(fold) {
                position = min(position + 1, maxPosition)
                guard word.utf8.count < 2048 else { continue }
                if positions[word] == nil {
                    guard size + word.utf8.count + 16 < budget else { continue }
                    size += word.utf8.count + 4
                    order.append(word)
                }
                if positions[word, default: []].count < maxPositionsPerWord {
                    positions[word, default: []].append(position)
                    size += 6
                }
            }
            position = min(position + 1, maxPosition)  // the gap between fields
        }
        return order.map { "'\($0)':" + Set(positions[$0]!).sorted().map(String.init).joined(separator: ",") }.joined(separator: " ")
    }

    /// The tsquery literal of a parsed query.
    static func query(_ q: ArchiveTextQuery) -> String {
        func phrase(_ p: ArchiveTextQuery.Phrase) -> String {
            let words = p.words.map { "'\(fold($0))'" }
            let joined = words.enumerated().map { i, w in i == words.count - 1 && p.prefix ? w + ":*" : w }.joined(separator: " <-> ")
            return "(\(joined))"
        }
        var parts = q.required.map { group in "(" + group.map(phrase).joined(separator: " | ") + ")" }
        parts += q.excluded.map { "!" + phrase($0) }
        return parts.joined(separator: " & ")
    }
}
