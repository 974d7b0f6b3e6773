// The filters every `sluice queue` verb takes to choose messages, like
// mailq/postsuper/qshape: --state, --from, --to-domain, --older, parsed into
// SluiceAdmin's QueueSelection.

import ArgumentParser
import Foundation
import SluiceAdmin
import SluiceConfig
import SluiceCore
import SluiceQueue

struct QueueFilter: ParsableArguments {
    @Option(name: .long, help: "active, deferred, held, quarantined (corrupt files are listed by `queue list`).")
    var state: String?
    @Option(name: .long, help: "Sender address or domain contains this (case-insensitive).") var from: String?
    @Option(name: .long, help: "A recipient's domain is this domain or below it.") var toDomain: String?
    @Option(name: .long, help: "Queued longer ago than this (30m, 2h, 1d).") var older: String?

    var isEmpty: Bool { state == nil && from == nil && toDomain == nil && older == nil }

    func validate() throws {
        if let state, QueueState(rawValue: state) == nil, state != "corrupt" {
            throw ValidationError("--state is one of \(QueueState.allCases.map(\.rawValue).joined(separator: ", ")), corrupt")
        }
        if let older, DurationText.parse(older) == nil { throw ValidationError("--older '\(older)' is not a duration like 30m, 2h or 1d") }
    }

    /// The filters as the admin operations take them.
    var selection: QueueSelection {
        QueueSelection(state: state, from: from, toDomain: toDomain, olderThan: older.flatMap(DurationText.parse))
    }
}
