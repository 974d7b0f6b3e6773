// WebhookTarget: the `webhook` route. POSTs the message as JSON
// (WebhookPayload) to an application with async-http-client, signed
// `Sluice-Signature: t=UNIXTIME,v1=HEX` (HMAC-SHA256 with the endpoint's
// secret over "UNIXTIME." and the body, the scheme Stripe and GitHub use, so
// a receiver can check it and refuse replays). The answer decides, for every
// recipient of the route at once: 2xx delivered; 408, 429, 5xx, a redirect
// (never followed), a timeout or no connection retried through the queue (a
// 429's Retry-After is the "not before" of the next attempt); any other 4xx
// failed for good, with a DSN saying `Diagnostic-Code: X-HTTP; 410 Gone`.

import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCore

public struct WebhookSecrets: Sendable {
    /// Each endpoint's HMAC key, by name, read when the runtime was built.
    public let keys: [String: [UInt8]]
}

public final class WebhookTarget: DeliveryTarget {
    let client: HTTPClient
    let io: NIOThreadPool
    let clock: any SluiceClock
    /// The endpoints and keys in force (the daemon's current runtime).
    let current: @Sendable () -> (endpoints: [String: WebhookEndpoint], secrets: WebhookSecrets?)

    init(client: HTTPClient, io: NIOThreadPool, clock: any SluiceClock, current: @escaping @Sendable () -> ([String: WebhookEndpoint], WebhookSecrets?)) {
        self.client = client
        self.io = io
        self.clock = clock
        self.current = { let c = current(); return (c.0, c.1) }
    }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let (endpoints, secrets) = current()
        guard route.kind == "webhook", let endpoint = endpoints[route.instance], let key = secrets?.keys[route.instance] else {
            throw SMTPError(451, .init(4, 3, 5), "Unknown webhook", reason: "no webhook for \(route)")
        }
        let remote = RemoteEnd(
            name: endpoint.host, port: endpoint.port, transport: TransportFacts(tlsVersion: endpoint.secure ? "TLS" : nil, verifiedBy: endpoint.secure ? "system roots" : nil),
            diagnosticType: "X-HTTP")
        let payload = try WebhookPayload(webhook: endpoint.name, message: message, recipients: recipients)
        let stamp = Int(clock.now().timeIntervalSince1970)
        // First pass: the signature over what the second pass sends.
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: Array("\(stamp).".utf8))
        for try await chunk in payload.chunks(io: io) { chunk.withUnsafeReadableBytes { mac.update(data: $0) } }
        let signature = Data(mac.finalize()).map { String(format: "%02x", $0) }.joined()

        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sluice/\(SluiceVersion.number)")
        request.headers.add(name: "Sluice-Signature", value: "t=\(stamp),v1=\(signature)")
        for (name, value) in endpoint.headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .stream(payload.chunks(io: io), length: .known(Int64(payload.length)))
        let where_ = "webhook \(endpoint.name) \(endpoint.url)"
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(endpoint.timeout * 1000)))
        } catch {
            let e = SMTPError(451, .init(4, 4, 1), "Webhook not reached: \(Self.describe(error))", reason: "\(where_): \(error)")
            return DeliveryReport(results: Dictionary(uniqueKeysWithValues: recipients.map { ($0, RecipientResult(e, remote: remote)) }), detail: "\(where_): \(e.reply)")
        }
        // The answer's body is not needed; reading at most a little of it lets the connection be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        let status = response.status
        let said = "\(status.code) \(status.reasonPhrase)"
        let result: RecipientResult
        switch status.code {
        case 200..<300:
            result = RecipientResult(status: .delivered, reply: SMTPReply(250, .init(2, 0, 0), said), remote: remote, fromRemote: true)
        case 408, 429, 300..<400, 500..<600:
            var r = RecipientResult(SMTPError(451, .init(4, 0, 0), said, reason: "\(where_): \(said)"), remote: remote, fromRemote: true)
            if status.code == 429, let after = response.headers.first(name: "Retry-After").flatMap(Double.init), after > 0 {
                r.status = .deferred(notBefore: clock.now().addingTimeInterval(min(after, 86400)))
            }
            result = r
        default:
            result = RecipientResult(SMTPError(550, .init(5, 0, 0), said, reason: "\(where_): \(said)"), remote: remote, fromRemote: true)
        }
        if case .delivered = result.status {
            return DeliveryReport(delivered: result, detail: "\(where_): \(said)")
        }
        return DeliveryReport(results: Dictionary(uniqueKeysWithValues: recipients.map { ($0, result) }), detail: "\(where_): \(said)")
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout { return "timed out" }
        return "connection failed"
    }
}
