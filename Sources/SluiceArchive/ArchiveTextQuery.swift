// Sluice's text query language for `sluice archive search --text`, the same
// for every archive store (SQLite's FTS5 today, PostgreSQL later): what an
// administrator types, searchable as typed.
//
//   invoice                  a word (any case, accents ignored)
//   alice@external.org       an address, a domain, a hyphenated or dotted word:
//   state-of-the-art         its words next to each other, in that order
//   "quarterly payroll"      a phrase
//   invoi*                   a word starting so
//   payroll OR salary        either (OR binds tighter than the space: a b OR c is a and (b or c))
//   -draft  -"do not send"   without this word or phrase
//
// Words are runs of letters and digits; everything else separates them (as
// the index splits text). Parentheses and other operators are not syntax:
// they separate words like any punctuation, so nothing typed is an error
// except a query with nothing to look for.

public struct ArchiveTextQuery: Equatable, Sendable {
    /// Words next to each other (one word is a phrase of one); `prefix`: the last one may continue.
    public struct Phrase: Equatable, Sendable {
        public var words: [String]
        public var prefix = false
    }

    /// Every group must match; a group matches when any of its phrases does.
    public var required: [[Phrase]] = []
    /// None of these may match.
    public var excluded: [Phrase] = []

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws(Invalid) -> ArchiveTextQuery {
        var query = ArchiveTextQuery()
        var pendingOr = false
        for token in tokens(text) {
            if token.text == "OR" && !token.quoted && !token.negated {
                pendingOr = !query.required.isEmpty
                continue
            }
            var phrase = Phrase(words: words(token.text))
            phrase.prefix = !token.quoted && token.text.hasSuffix("*")
            guard !phrase.words.isEmpty else { continue }
            if token.negated {
                query.excluded.append(phrase)
            } else if pendingOr {
                query.required[query.required.count - 1].append(phrase)
            } else {
                query.required.append([phrase])
            }
            pendingOr = false
        }
        guard !query.required.isEmpty else {
            throw Invalid(
                description: query.excluded.isEmpty
                    ? "nothing to search for in '\(text)' (words are letters and digits)"
                    : "a query needs a word to look for, not only words to leave out (-word)")
        }
        return query
    }

    struct Token {
        var text: String
        var quoted = false
        var negated = false
    }

    /// Splits at spaces outside quotes; a leading "-" negates; an unclosed quote runs to the end.
    static func tokens(_ text: String) -> [Token] {
        var out: [Token] = []
        var current = Token(text: "")
        var inQuotes = false
        var started = false
        func close() {
            if started { out.append(current) }
            current = Token(text: "")
            started = false
        }
        for c in text {
            if inQuotes {
                if c == "\"" {
                    inQuotes = false
                    close()
                } else {
                    current.text.append(c)
                }
            } else if c == "\"" {
                if started && !(current.negated && current.text.isEmpty) { close() }
                current.quoted = true
                inQuotes = true
                started = true
            } else if c.isWhitespace {
                close()
            } else if c == "-" && !started {
                current.negated = true
                started = true
            } else {
                current.text.append(c)
                started = true
            }
        }
        close()
        return out
    }

    /// The words of a token, as the index splits text: runs of letters and digits, lowercased (a store that builds
    /// its own index splits documents with this too).
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        for c in text {
            if c.isLetter || c.isNumber {
                word.append(c)
            } else if !word.isEmpty {
                out.append(word.lowercased())
                word = ""
            }
        }
        if !word.isEmpty { out.append(word.lowercased()) }
        return out
    }
}

extension ArchiveTextQuery {
    /// The same query in SQLite FTS5's syntax: every word quoted (so nothing in it is an operator),
    /// adjacent words as one phrase, OR groups in parentheses, exclusions after NOT.
    public var fts5: String {
        func phrase(_ p: Phrase) -> String {
            "\"" + p.words.map { $0.replacingOccurrences(of: "\"", with: "\"\"") }.joined(separator: " ") + "\"" + (p.prefix ? "*" : "")
        }
        var expression = required.map { group in
            group.count == 1 ? phrase(group[0]) : "(" + group.map(phrase).joined(separator: " OR ") + ")"
        }.joined(separator: " AND ")
        for p in excluded { expression += " NOT " + phrase(p) }
        return expression
    }
}
