// StorageSchema: the contract of a shared backend's schema, for
// `sluice storage migrate` (apply the missing versioned migrations) and
// `sluice check` (is the schema this binary's?). The embedded backend has
// none: its SQLite files migrate themselves when opened.

public protocol StorageSchema: Sendable {
    /// Where the store is, without secrets ("postgres://sluice@db.example:5432/sluice").
    var location: String { get }
    /// The schema version this binary reads and writes.
    var wanted: Int { get }
    /// The version the store is at (0: never migrated).
    func found() async throws -> Int
    /// Applies the missing migrations and returns their versions (empty when current); refuses a newer schema.
    func migrate() async throws -> [Int]
}
