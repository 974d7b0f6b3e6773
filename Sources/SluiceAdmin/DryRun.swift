// DryRun: what the daemon would do with a message, without sending anything
// (`sluice rules test`, later the admin API). The runtime and the host come
// from the same component list the daemon runs, in dry-run mode: the same
// sender, inspect and scan stages and the same decision; the verdicts that
// need the network or the dialogue (SPF, DKIM, DMARC, a DNS-list hit ...)
// are given by the caller; DLP sampling is off, so the answer repeats. The
// session checks (traffic policy, relay control) are not run: a dry run
// answers what the rules do with a message that was accepted.

import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluicePipeline
import SluiceRules
import SluiceSMTP

public struct DryRunRequest: Sendable {
    /// The message (.eml).
    public var messagePath: String
    /// Envelope sender; nil: the From: address.
    public var sender: String?
    /// Envelope recipients; empty: the To: addresses.
    public var recipients: [String] = []
    public var clientIP = "127.0.0.1"
    /// The listener it arrives on; nil: the first.
    public var listener: String?
    public var authenticatedUser: String?
    public var helo = "client.example"
    /// Pretend the client used TLS 1.3.
    public var tls = false
    /// Verdicts the caller gives instead of a stage that would ask the network.
    public var supplied = MessageVerdicts()

    public init(messagePath: String) { self.messagePath = messagePath }
}

public struct DryRunReport: Sendable {
    public let listener: String
    /// The message after the stages, with every verdict.
    public let message: ReceivedMessage
    public let decision: Decision
    /// A stage's refusal (a From: the sender may not use), answered before any rule.
    public let refusal: SMTPError?

    /// What the client would be answered at end of DATA when not 250.
    public var reject: SMTPError? { refusal ?? decision.reject }
}

public enum DryRun {
    /// The From: domain of a message file, for verdicts the caller supplies.
    public static func fromDomain(_ headers: MessageHeaders, sender: MailAddress?) -> String {
        headers.first("From").flatMap { mailboxAddresses(inAddressList: $0).first }
            .map { String($0[$0.index(after: $0.lastIndex(of: "@")!)...]) } ?? sender?.domain ?? ""
    }

    public static func headers(ofFile path: String) throws -> (bytes: [UInt8], headers: MessageHeaders) {
        guard let data = FileManager.default.contents(atPath: path) else { throw AdminError("cannot read \(path)") }
        let bytes = [UInt8](data)
        return (bytes, MessageHeaders(parsing: bytes[..<headerEnd(bytes)]))
    }

    public static func address(_ text: String, what: String) throws -> MailAddress {
        do { return try AddressParser.parsePath(Substring(text), allowUTF8: true) } catch {
            throw AdminError("\(what) '\(text)' is not a valid address")
        }
    }

    public static func run(_ request: DryRunRequest, runtime: Runtime, components: [any Component]) async throws -> DryRunReport {
        let config = runtime.config
        guard let l = request.listener.map({ name in config.listeners.first { $0.name == name } }) ?? config.listeners.first else {
            throw AdminError("no listener named \(request.listener ?? "")")
        }
        let (bytes, headers) = try Self.headers(ofFile: request.messagePath)
        let senderText = request.sender ?? headers.first("From").flatMap { mailboxAddresses(inAddressList: $0).first }
        let sender = try senderText.map { try address($0, what: "sender") }
        let recipientTexts = request.recipients.isEmpty ? headers.values("To").flatMap { mailboxAddresses(inAddressList: $0) } : request.recipients
        guard !recipientTexts.isEmpty else { throw AdminError("no recipient: give --to or a To: header") }
        let recipients = try recipientTexts.map { try address($0, what: "recipient") }
        guard let clientIP = IPAddress(request.clientIP) else { throw AdminError("--ip \(request.clientIP) is not an IP address") }
        var client = ClientInfo(address: clientIP, listener: l.name)
        client.helo = request.helo
        client.authenticatedUser = request.authenticatedUser
        if request.tls { client.tlsVersion = "TLSv1.3" }
        let envelope = Envelope(
            queueID: QueueID.generate(), sender: sender, recipients: recipients.map { Recipient(address: $0) }, client: client)

        let logger = Logger(label: "sluice.dry-run") { _ in SwiftLogNoOpLogHandler() }
        let executors = Executors.single()
        executors.start()
        let holder = RuntimeHolder(runtime)
        let storage = try Storage(
            components: components, context: StorageContext(config: config, executors: executors, clock: WallClock(), logger: logger))
        let host = try Host.build(
            components, environment: HostEnvironment(mode: .dryRun, runtime: holder, executors: executors, logger: logger, storage: storage))
        var message = ReceivedMessage(envelope: envelope, headers: headers, spoolPath: request.messagePath, size: bytes.count)
        message.verdicts = request.supplied
        let decision: Decision
        var refusal: SMTPError?
        do {
            decision = try await host.pipeline.run(&message, runtime: runtime, logger: logger)
        } catch {
            // A stage refused the message (a From: the sender may not use): what the daemon answers.
            refusal = SMTPError.from(error)
            decision = Decide.decide(message, runtime: runtime)
        }
        await executors.shutdown(logger: logger)
        return DryRunReport(listener: l.name, message: message, decision: decision, refusal: refusal)
    }

    static func headerEnd(_ b: [UInt8]) -> Int {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 10 && b[i + 1] == 10 { return i + 1 }
            if i + 3 < b.count && b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 2 }
            i += 1
        }
        return b.count
    }
}
