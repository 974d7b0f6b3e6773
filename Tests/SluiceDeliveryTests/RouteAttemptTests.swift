// What one attempt makes of a route (pure): recipients split by what happened
// to them, each part with its reply and remote; a "not before" deferral counts
// no attempt; max_delivery_time turns a deferral into a failure; on_failure:
// defer keeps a refusal pending.

import Foundation
import SluiceCore
import SluiceQueue
import XCTest

@testable import SluiceDelivery

final class RouteAttemptTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let (a, b, c, d) = (
        MailAddress(localPart: "a", domain: "r.test"), MailAddress(localPart: "b", domain: "r.test"), MailAddress(localPart: "c", domain: "r.test"),
        MailAddress(localPart: "d", domain: "r.test")
    )
    let remote = RemoteEnd(name: "mx.r.test", address: "192.0.2.1", port: 25, transport: TransportFacts(tlsVersion: "TLSv1.3", tlsCipher: "TLS_AES_128_GCM_SHA256"))

    func state(_ recipients: [MailAddress], onFailure: OnFailure = .continue, attempts: Int = 2) -> RouteState {
        var s = RouteState(route: Route(target: .relay(upstream: "mx"), recipients: recipients, onFailure: onFailure))
        s.attempts = attempts
        return s
    }

    func testRecipientsSplitByWhatHappenedToThem() {
        let later = now.addingTimeInterval(600)
        var report = DeliveryReport(
            delivered: RecipientResult(status: .delivered, reply: SMTPReply(250, .init(2, 0, 0), "queued as X"), remote: remote, fromRemote: true))
        report.results[b] = RecipientResult(SMTPError(550, .init(5, 1, 1), "<b@r.test>: user unknown"), remote: remote, fromRemote: true)
        report.results[c] = RecipientResult(SMTPError(450, .init(4, 2, 0), "try again"), remote: remote, fromRemote: true)
        report.results[d] = RecipientResult(status: .deferred(notBefore: later), reply: SMTPReply(421, .init(4, 7, 0), "slow down"), remote: remote, fromRemote: true)
        let parts = RouteAttempt.split(state([a, b, c, d]), report: report, now: now, expired: false)
        XCTAssertEqual(parts.map(\.kind), [.delivered, .failed, .deferred, .waiting])
        XCTAssertEqual(parts.map { $0.state.route.recipients }, [[a], [b], [c], [d]])
        XCTAssertEqual(parts.map(\.state.attempts), [3, 3, 3, 2], "a not-before deferral is no attempt")
        XCTAssertEqual(parts.map(\.state.status), [.delivered, .failed, .pending, .pending])
        XCTAssertEqual(parts[3].state.notBefore, later)
        XCTAssertNil(parts[2].state.notBefore)
        XCTAssertEqual(parts[1].state.lastErrorReply?.status, EnhancedStatus(5, 1, 1))
        XCTAssertEqual(parts[1].state.lastRemote, remote)
        XCTAssertEqual(parts[1].state.lastReplyFromRemote, true)
        XCTAssertEqual(parts[0].state.lastReply?.lines, ["queued as X"])
        XCTAssertEqual(parts.map(\.state.lastAttemptAt), [now, now, now, now])
    }

    func testRecipientsWithTheSameResultStayTogether() {
        let e = SMTPError(451, .init(4, 4, 1), "Connection problem: refused")
        let report = DeliveryReport(results: [a: RecipientResult(e, remote: remote), b: RecipientResult(e, remote: remote)])
        let parts = RouteAttempt.split(state([a, b, c]), report: report, now: now, expired: false)
        XCTAssertEqual(parts.map { $0.state.route.recipients }, [[a, b], [c]])
        XCTAssertEqual(parts[0].state.lastReplyFromRemote, false, "a connection problem is not the remote's reply")
    }

    func testExpiryAndOnFailure() {
        let deferred = DeliveryReport(refused: [a: SMTPError(451, .init(4, 3, 0), "later")])
        let waiting = DeliveryReport(results: [a: RecipientResult(status: .deferred(notBefore: now.addingTimeInterval(60)))])
        let refused = DeliveryReport(refused: [a: SMTPError(550, .init(5, 7, 1), "no")])
        XCTAssertEqual(RouteAttempt.split(state([a]), report: deferred, now: now, expired: true).map(\.kind), [.failed])
        XCTAssertEqual(RouteAttempt.split(state([a]), report: waiting, now: now, expired: true).map(\.kind), [.failed], "max_delivery_time still runs")
        XCTAssertEqual(RouteAttempt.split(state([a], onFailure: .defer), report: refused, now: now, expired: false).map(\.kind), [.deferred])
        XCTAssertEqual(RouteAttempt.split(state([a], onFailure: .defer), report: refused, now: now, expired: true).map(\.kind), [.failed])
    }
}
