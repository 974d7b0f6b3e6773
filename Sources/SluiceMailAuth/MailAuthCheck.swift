// MailAuthCheck: the verify stage for listeners with `verify:` (R-MAUTH-1).
// SPF on the client address and MAIL FROM (HELO for the null sender), every
// DKIM signature, and DMARC from both; the verdicts become annotations the
// rules test (spf:, dkim:, dmarc:, dmarc_policy:) and one
// Authentication-Results header (RFC 8601) with this host's authserv-id.
// Blocking work (libspf2, libopendkim, reading the spool) runs on the file
// I/O pool. Nothing here refuses mail: the rules decide.

import Logging
import NIOPosix
import SluiceCore
import SluiceQueue

public struct MailAuthCheck: MessageCheck {
    public let name = "mailauth"
    let hostname: String
    let spf: SPFChecker
    let dkim: DKIMVerifier
    let dmarc: DMARCEvaluator
    let io: NIOThreadPool
    /// Per listener: which checks run ("spf", "dkim", "dmarc"); DMARC implies the other two.
    let listeners: [String: Set<String>]

    public init(hostname: String, resolver: any DNSResolver, io: NIOThreadPool, listeners: [String: Set<String>]) throws {
        self.hostname = hostname
        spf = SPFChecker(resolver: resolver, hostname: hostname)
        dkim = try DKIMVerifier(resolver: resolver)
        dmarc = DMARCEvaluator(resolver: resolver)
        self.io = io
        self.listeners = listeners
    }

    public func check(_ message: inout ReceivedMessage) async throws {
        guard var wanted = listeners[message.envelope.client.listener], !wanted.isEmpty else { return }
        if wanted.contains("dmarc") { wanted.formUnion(["spf", "dkim"]) }
        let envelope = message.envelope
        var parts: [String] = []

        var spfResult: SPFResult?
        if wanted.contains("spf"), let ip = envelope.client.address {
            let checker = spf
            let helo = envelope.client.helo ?? ""
            spfResult = try await io.runIfActive { checker.check(clientIP: ip.description, helo: helo, sender: envelope.sender) }
        }
        if let r = spfResult {
            message.annotations["spf"] = r.verdict.rawValue
            parts.append("spf=\(r.verdict.rawValue) smtp.\(r.scope)=\(r.identity)")
        }

        var dkimResults: [DKIMResult] = []
        if wanted.contains("dkim") {
            let (path, size) = (message.spoolPath, message.size)
            let header = try await io.runIfActive { try QueueFileReader.headerSection(path, length: size) }
            let keys = await dkim.fetchKeys(header: header)
            let verifier = dkim
            let id = envelope.queueID.rawValue
            dkimResults = try await io.runIfActive {
                try verifier.verify(id: id, header: header, keys: keys) { feed in
                    try QueueFileReader.chunks(path, offset: header.count, length: size - header.count, feed)
                }
            }
            message.annotations["dkim"] = Self.summary(dkimResults).rawValue
            if dkimResults.isEmpty { parts.append("dkim=none") }
            for r in dkimResults {
                var part = "dkim=\(r.verdict.rawValue) header.d=\(r.domain) header.s=\(r.selector)"
                if !r.algorithm.isEmpty { part += " header.a=\(r.algorithm)" }
                if !r.signaturePrefix.isEmpty { part += " header.b=\(r.signaturePrefix)" }
                parts.append(part)
            }
        }

        if wanted.contains("dmarc") {
            let from = message.headers.first("From").flatMap { mailboxAddresses(inAddressList: $0).first }
            if let from, let at = from.lastIndex(of: "@") {
                let domain = String(from[from.index(after: at)...])
                let r = await dmarc.evaluate(fromDomain: domain, spf: spfResult, dkim: dkimResults)
                message.annotations["dmarc"] = r.verdict.rawValue
                if let d = r.disposition { message.annotations["dmarc_policy"] = d.rawValue }
                var part = "dmarc=\(r.verdict.rawValue)"
                if let p = r.published { part += " (p=\(p.rawValue) dis=\((r.disposition ?? .none).rawValue))" }
                parts.append(part + " header.from=\(r.fromDomain)")
            } else {
                message.annotations["dmarc"] = "permerror"
                parts.append("dmarc=permerror (no single From: address)")
            }
        }
        guard !parts.isEmpty else { return }
        message.addedHeaders.append(Self.header(authservID: hostname, parts))
    }

    /// One verdict for "dkim:" conditions: pass if any signature passed, else the most telling failure.
    static func summary(_ results: [DKIMResult]) -> DKIMResult.Verdict {
        if results.isEmpty { return .none }
        for v in [DKIMResult.Verdict.pass, .fail, .temperror, .permerror] where results.contains(where: { $0.verdict == v }) { return v }
        return .neutral
    }

    static func header(authservID: String, _ parts: [String]) -> String {
        "Authentication-Results: \(authservID);\r\n\t" + parts.joined(separator: ";\r\n\t")
    }
}
