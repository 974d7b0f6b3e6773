// The postgres backend's StorageSchema: `sluice storage migrate` and the
// schema line of `sluice check`.

import SluicePipeline

struct PostgresSchema: StorageSchema {
    let db: PostgresDatabase

    var location: String { db.settings.displayURL }
    var wanted: Int { Schema.current }
    func found() async throws -> Int { try await db.schemaVersion() }
    func migrate() async throws -> [Int] { try await db.migrate() }
}
