// A queued message as the quarantine index records it.

import Foundation
import SluiceCore
import SluiceQueue

extension QueueEntry {
    /// The rule and reason of each quarantined route, once each.
    public var quarantineReasons: [String] {
        var out: [String] = []
        for r in routes where r.status == .pending && r.route.held {
            let why = r.route.quarantine ?? "a quarantine rule (queued before reasons were recorded)"
            if !out.contains(why) { out.append(why) }
        }
        return out
    }

    /// The recipients held in quarantine.
    public var quarantinedRecipients: [MailAddress] {
        routes.filter { $0.status == .pending && $0.route.held }.flatMap(\.route.recipients)
    }
}

extension QuarantineRecord {
    /// The record of a quarantined message; `subject` from its header section.
    public init(_ e: QueueEntry, node: String, subject: String) {
        var verdicts: [String: String] = [:]
        for (name, summary) in (e.results ?? MessageVerdicts()).summaries { verdicts[name] = summary }
        if let dlp = e.results?.inspection?.summary { verdicts[InspectionResults.name] = dlp }
        self.init(
            queueID: e.id, node: node, queuedAt: e.queuedAt, sender: e.envelope.senderDescription, subject: subject, size: e.size,
            recipients: e.quarantinedRecipients.map(\.description), reasons: e.quarantineReasons, verdicts: verdicts)
    }
}
