// MessageVerifier: the verify stage's work (R-MAUTH-1). SPF on the client
// address and MAIL FROM (HELO for the null sender), every DKIM signature, and
// DMARC from both, as typed AuthenticationResults. Every client is evaluated
// the same way: there is no loopback or trusted-network exemption in a
// verdict (trust decides who may relay, not what SPF says). libspf2 and
// libopendkim block, so they run on `io`; DNS waits are bounded by the
// resolver's timeout. Nothing here refuses mail: the rules decide.

import Logging
import NIOPosix
import SluiceCore
import SluiceQueue

public struct MessageVerifier: Sendable {
    let spf: SPFChecker
    let dkim: DKIMVerifier
    let dmarc: DMARCEvaluator
    let io: NIOThreadPool

    public init(hostname: String, resolver: any DNSResolver, io: NIOThreadPool) throws {
        spf = SPFChecker(resolver: resolver, hostname: hostname)
        dkim = try DKIMVerifier(resolver: resolver)
        dmarc = DMARCEvaluator(resolver: resolver)
        self.io = io
    }

    /// Runs the asked methods (DMARC implies SPF and DKIM) on the message spooled at `path` (`size` bytes).
    public func verify(
        _ methods: Set<AuthenticationMethod>, envelope: Envelope, headers: MessageHeaders, path: String, size: Int
    ) async throws -> AuthenticationResults {
        var wanted = methods
        if wanted.contains(.dmarc) { wanted.formUnion([.spf, .dkim]) }
        var results = AuthenticationResults()
        if wanted.contains(.spf), let ip = envelope.client.address {
            let checker = spf
            let helo = envelope.client.helo ?? ""
            let r = try await io.runIfActive { checker.check(clientIP: ip.description, helo: helo, sender: envelope.sender) }
            results.spf = SPFVerdict(result: AuthResult(rawValue: r.verdict.rawValue) ?? .permerror, identity: r.identity, scope: r.scope, explanation: r.explanation)
        }
        var signatures: [DKIMResult] = []
        if wanted.contains(.dkim) {
            let header = try await io.runIfActive { try QueueFileReader.headerSection(path, length: size) }
            let keys = await dkim.fetchKeys(header: header)
            let verifier = dkim
            let id = envelope.queueID.rawValue
            do {
                signatures = try await io.runIfActive {
                    try verifier.verify(id: id, header: header, keys: keys) { feed in
                        try QueueFileReader.chunks(path, offset: header.count, length: size - header.count, feed)
                    }
                }
                results.dkim = signatures.map(\.typed)
            } catch let e as DKIMError {
                // The verifier could not run: a temporary error, not a verdict on the signatures.
                results.dkimError = e.description
            }
        }
        if wanted.contains(.dmarc) {
            let from = headers.first("From").map { mailboxAddresses(inAddressList: $0) } ?? []
            if from.count == 1, let at = from[0].lastIndex(of: "@") {
                let domain = String(from[0][from[0].index(after: at)...])
                let spfResult = results.spf.map { SPFResult(verdict: .init(rawValue: $0.result.rawValue) ?? .permerror, identity: $0.identity, scope: $0.scope) }
                let r = await dmarc.evaluate(fromDomain: domain, spf: spfResult, dkim: results.dkimError == nil ? signatures : [])
                results.dmarc = DMARCVerdict(
                    result: AuthResult(rawValue: r.verdict.rawValue) ?? .permerror, fromDomain: r.fromDomain,
                    published: r.published.flatMap { DMARCPolicy(rawValue: $0.rawValue) },
                    disposition: r.disposition.flatMap { DMARCPolicy(rawValue: $0.rawValue) })
            } else {
                results.dmarc = DMARCVerdict(result: .permerror, fromDomain: "", reason: "no single From: address")
            }
        }
        return results
    }
}

extension DKIMResult {
    /// The typed verdict the pipeline carries.
    public var typed: DKIMVerdict {
        DKIMVerdict(
            result: AuthResult(rawValue: verdict.rawValue) ?? .permerror, domain: domain, selector: selector, algorithm: algorithm,
            signaturePrefix: signaturePrefix, reason: reason)
    }
}
