// One delivery attempt of one route: the message modifiers (headers, subject
// tags, DKIM), the target, and what its answer means for each recipient
// (delivered, deferred, waiting, failed), logged and counted; and the one DSN
// for the recipients an attempt failed for good.

import Foundation
import Logging
import SluiceCore
import SluiceQueue

extension QueueManager {
    /// Where a message's attempt goes: the destinations of the routes an attempt would try, as their targets name
    /// them ("relay:smarthost", "send:example.org"); one name for the set.
    func destination(of entry: QueueEntry) -> String {
        let names = entry.routes.filter { $0.status == .pending && !$0.route.held }.map { state in
            let r = state.route
            return targets[r.target.kind]?.destination(of: r.target, recipients: r.recipients) ?? r.target.description
        }
        return names.count == 1 ? names[0] : Set(names).sorted().joined(separator: " + ")
    }

    /// One delivery attempt of one route. The route may split: delivered
    /// recipients, refused ones (failed for good) and deferred ones.
    func attempt(_ state: RouteState, of entry: QueueEntry, now: Date, log: Logger) async -> [RouteState] {
        let route = state.route
        var outgoing = OutgoingMessage(
            envelope: entry.envelope, prependedHeaders: route.addHeaders, bodyPath: store.messagePath(for: entry.id),
            bodyLength: entry.size)
        outgoing.subjectTags = route.subjectTags
        outgoing.verdicts = entry.results ?? MessageVerdicts()
        outgoing.signingDomains = route.dkimDomains
        outgoing.marks = route.marks ?? [:]
        outgoing.variant = route.variant
        do {
            for modifier in modifiers { try await modifier.modify(&outgoing) }
        } catch {
            log.event(.error, level: .error, "transform failed", [.error: "\(SMTPError.from(error))"])
        }
        let started = clock.now()
        let kind = route.target.kind
        var report: DeliveryReport
        do {
            guard let target = targets[kind] else {
                throw SMTPError(451, .init(4, 3, 5), "No delivery target for \(kind)", reason: "\(kind) is not configured")
            }
            report = try await target.deliver(outgoing, to: route.recipients, route: route.target)
        } catch {
            let e = SMTPError.from(error)
            report = DeliveryReport(refused: Dictionary(uniqueKeysWithValues: route.recipients.map { ($0, e) }))
        }
        let ended = clock.now()
        let took = ended.timeIntervalSince(started)
        let expired = schedule.hasExpired(queuedAt: entry.queuedAt, now: now, limit: route.maxDeliveryTime)
        var base: [LogKey: String] = [.route: "\(route.target)", .durationMS: "\(Int(took * 1000))"]
        if let detail = report.detail { base[.reply] = detail }
        let parts = RouteAttempt.split(state, report: report, now: ended, expired: expired)
        for part in parts {
            var fields = base
            fields[.recipients] = part.state.route.recipients.map(\.description).joined(separator: ",")
            if let remote = part.result.remote {
                fields[.remote] = remote.description
                fields[.transport] = remote.transport.description
            }
            if part.kind != .delivered {
                fields[.reply] = "\(part.result.error.reply)"
                fields[.reason] = part.result.error.reason
            } else if let reply = part.result.reply {
                fields[.reply] = "\(reply)"
            }
            switch part.kind {
            case .delivered:
                SluiceMetrics.deliveryAttempt(target: kind, outcome: "delivered", seconds: took)
                SluiceMetrics.delivered(target: kind, secondsSinceAccepted: ended.timeIntervalSince(entry.queuedAt))
                log.event(.delivered, "delivered", fields)
            case .deferred, .waiting:
                if let notBefore = part.state.notBefore { fields[.notBefore] = ISO8601Time.utc(notBefore) }
                SluiceMetrics.deliveryAttempt(target: kind, outcome: "deferred", seconds: took)
                log.event(.deferred, level: .warning, "delivery deferred", fields)
            case .failed:
                SluiceMetrics.deliveryAttempt(target: kind, outcome: "failed", seconds: took)
                if route.onFailure == .drop {
                    log.event(.dropped, level: .notice, "delivery failed; dropped as the rule says (on_failure: drop)", fields)
                } else {
                    log.event(.failed, level: .error, "delivery failed", fields)
                }
            }
        }
        return parts.map(\.state)
    }

    /// Sends one DSN for the recipients that failed in this attempt (not to the
    /// null sender, only where NOTIFY asks for failures, never for on_failure: drop).
    func bounceNewFailures(_ entry: inout QueueEntry, log: Logger) async {
        guard let bouncer, entry.envelope.sender != nil else { return }
        var failed: [DeliveryStatusNotification.FailedRecipient] = []
        var reported: [Int] = []
        for (index, state) in entry.routes.enumerated() where state.status == .failed && !state.bounced && state.route.onFailure != .drop {
            reported.append(index)
            for address in state.route.recipients {
                let original = entry.envelope.recipients.first { $0.address == address } ?? Recipient(address: address)
                guard DeliveryStatusNotification.wanted(original) else { continue }
                let e = state.lastErrorReply.map { SMTPError($0, reason: state.lastError ?? "") }
                    ?? SMTPError(550, .init(5, 0, 0), state.lastError ?? "delivery failed")
                // Remote-MTA only when the reply is the remote's (not a connection that failed, not a rule's bounce).
                let fromRemote = state.lastReplyFromRemote == true
                failed.append(
                    .init(
                        recipient: original, error: e, remote: fromRemote ? state.lastRemote?.name : nil,
                        diagnosticType: fromRemote ? state.lastRemote?.diagnosticType : nil))
            }
        }
        guard !failed.isEmpty else {
            for i in reported { entry.routes[i].bounced = true }
            return
        }
        do {
            let id = try await bouncer.bounce(entry, failed: failed)
            for i in reported { entry.routes[i].bounced = true }
            if let id {
                putOnSchedule(id, at: clock.now(), destination: "", ifRunning: .skip)
                book.record(id, .active)
                log.event(.bounced, level: .notice, "bounce queued", [.recipients: failed.map { $0.recipient.address.description }.joined(separator: ","), .reason: "dsn \(id)"])
            }
        } catch {
            log.event(.error, level: .error, "could not queue the bounce", [.error: "\(error)"])
        }
    }
}
