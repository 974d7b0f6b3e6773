// PostgresStoreError: what a postgres store says when the database cannot
// answer: unreachable, too slow, a schema of another version, or a
// statement refused. The message names the database by its URL without the
// password and never carries a statement's values.

import PostgresNIO

public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Not reachable or too slow: the caller answers 4xx or follows `on_unavailable`.
        case unavailable
        /// The schema is not this binary's: `sluice storage migrate` (or a newer binary) is needed.
        case schema
        /// The database refused a statement.
        case refused
    }

    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// A PSQLError in words: the server's SQLSTATE and message, or what failed on the way there.
    static func from(_ error: any Error, database: String) -> PostgresStoreError {
        if let e = error as? PostgresStoreError { return e }
        guard let p = error as? PSQLError else {
            if error is CancellationError { return PostgresStoreError(.unavailable, "\(database): cancelled") }
            return PostgresStoreError(.unavailable, "\(database): \(error)")
        }
        if let info = p.serverInfo {
            let state = info[.sqlState] ?? "?"
            let message = info[.message] ?? "an error"
            // Class 08 (connection), 53 (resources), 57 (operator intervention: shutting down) are passing conditions.
            let passing = ["08", "53", "57"].contains(where: { state.hasPrefix($0) })
            return PostgresStoreError(passing ? .unavailable : .refused, "\(database): \(message) (SQLSTATE \(state))")
        }
        let cause = p.underlying.map { ": \($0)" } ?? ""
        return PostgresStoreError(.unavailable, "\(database): \(p.code)\(cause)")
    }
}
