// SendTarget: the `send` route, direct delivery to each recipient domain's
// MX hosts (R-DELIVER-2). Domains are delivered concurrently, each with at
// most `destination_concurrency` connections at once; per domain, the MX
// hosts are tried in preference order and each host's addresses (A, then
// AAAA) in turn, with opportunistic STARTTLS by default. All DNS goes through
// the resolver component. What cannot be decided now (DNS trouble, no host
// answering) is a 4xx and is retried; NXDOMAIN and null MX are final. Each
// domain's TLS policy (R-DELIVER-6: `delivery.tls_policy`, MTA-STS) is asked
// before its hosts are tried: `verify` only over TLS with a verified
// certificate, an MTA-STS `mx:` list only to the hosts it names; what the
// policy forbids is deferred (4.7.5), never sent in clear.

import Logging
import SluiceCore
import SluiceSMTP

public final class SendTarget: DeliveryTarget {
    /// At most this many addresses are tried per domain and attempt (Postfix's smtp_mx_address_limit).
    static let addressLimit = 5

    let resolver: any DNSResolver
    let deliverer: SMTPDeliverer
    let port: Int
    let policies: any OutboundTLSPolicySource
    let hostname: String
    let domains: KeyedLimiter
    let logger: Logger
    let clock: any SluiceClock

    public init(
        resolver: any DNSResolver, deliverer: SMTPDeliverer, port: Int, policies: any OutboundTLSPolicySource, hostname: String,
        destinationConcurrency: Int, logger: Logger, clock: any SluiceClock = WallClock()
    ) {
        self.clock = clock
        self.resolver = resolver
        self.deliverer = deliverer
        self.port = port
        self.policies = policies
        self.hostname = hostname
        self.domains = KeyedLimiter(limit: destinationConcurrency)
        self.logger = logger
    }

    /// The recipients' domains: each is a destination of its own.
    public func destination(of route: RouteTarget, recipients: [MailAddress]) -> String {
        "send:" + Set(recipients.map(\.normalizedDomain)).sorted().joined(separator: ",")
    }

    public func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], route: RouteTarget) async throws -> DeliveryReport {
        let byDomain = Dictionary(grouping: recipients) { $0.domain.lowercased() }
        let reports = await withTaskGroup(of: (String, DeliveryReport).self) { group in
            for (domain, rcpts) in byDomain {
                group.addTask {
                    (domain, await self.domains.withSlot(domain) { await self.deliver(message, to: rcpts, domain: domain) })
                }
            }
            var all: [String: DeliveryReport] = [:]
            for await (domain, r) in group { all[domain] = r }
            return all
        }
        // Each domain went its own way: every recipient's result is explicit.
        var report = DeliveryReport(detail: reports.values.compactMap(\.detail).sorted().joined(separator: "; "))
        for (domain, rcpts) in byDomain {
            guard let r = reports[domain] else { continue }
            for a in rcpts { report.results[a] = r.result(for: a) }
        }
        return report
    }

    /// One domain's recipients, to its MX hosts in turn.
    func deliver(_ message: OutgoingMessage, to recipients: [MailAddress], domain: String) async -> DeliveryReport {
        func all(_ e: SMTPError) -> DeliveryReport {
            DeliveryReport(refused: Dictionary(uniqueKeysWithValues: recipients.map { ($0, e) }), detail: "\(domain): \(e.reply)")
        }
        let endpoints: [SMTPClient.Endpoint]
        switch await self.endpoints(for: domain) {
        case .failure(let e): return all(e)
        case .success(let list): endpoints = list
        }
        var policy = await policies.policy(for: domain)
        if message.envelope.tlsPoliciesWaived {
            // TLS-Required: No (RFC 8689 §5): what the domain publishes (MTA-STS, DANE) is set aside; the administrator's
            // own levels hold, and STARTTLS is still used when offered.
            policy.hosts = [:]
            if policy.source.hasPrefix("mta-sts") { policy = DomainTLSPolicy(mode: .may, source: "TLS-Required: No") }
        }
        var plans: [(host: SMTPClient.Endpoint, tls: OutboundTLS, verifier: (any PeerCertificateVerifier)?, verify: Bool, policy: String)] = []
        var skipped: [String] = []
        for host in endpoints {
            let name = host.serverName ?? host.host
            switch policy.plan(forHost: name) {
            case .skip(let why, let failure):
                if !skipped.contains(why) {
                    skipped.append(why)
                    await policies.record(
                        TLSSessionResult(domain: domain, policy: policy, mxHost: name, receivingIP: nil, failure: failure, detail: why, at: clock.now()))
                }
            case .attempt(let tls, let verifier, let verify, let named):
                if policy.testing && !policy.allows(mxHost: name) {
                    logger.event(.attempt, level: .info, "MX host outside the domain's policy in testing; delivered anyway", [.route: domain, .policy: policy.name, .remote: name])
                }
                plans.append((host, tls, verifier, verify, named))
            }
        }
        if !skipped.isEmpty {
            logger.event(.attempt, level: .warning, "MX hosts the domain's TLS policy rules out", [.route: domain, .policy: policy.name, .reason: skipped.joined(separator: "; ")])
        }
        if plans.isEmpty {
            return all(SMTPError(451, .init(4, 7, 5), "No MX host of \(domain) may be used under its TLS policy: \(skipped.joined(separator: "; ")); will retry"))
        }
        var lastFailure = all(SMTPError(451, .init(4, 4, 1), "No MX host of \(domain) could be reached"))
        for plan in plans.prefix(Self.addressLimit) {
            let host = plan.host
            let outcome = await deliverer.attempt(
                message, to: recipients, host: host, tls: plan.tls, verifier: plan.verifier, authenticate: plan.verify)
            let where_ = "\(domain) via \(host)"
            let policyName = message.envelope.requireTLS ? "\(plan.policy), requiretls" : plan.policy
            let remote = outcome.remote(host, verifiedBy: outcome.verifiedBy, policy: policyName)
            let report = outcome.results(for: recipients, remote: remote, context: where_)
            if let result = TLSReportClassifier.result(outcome, domain: domain, policy: policy, host: host, at: clock.now()) { await policies.record(result) }
            if let failure = outcome.failure {
                if failure.isPermanent { return report }
                logger.event(.attempt, level: .info, "MX host failed; trying the next", [.route: where_, .reply: "\(failure.reply)", .reason: failure.reason])
                lastFailure = report
                continue
            }
            return report
        }
        return lastFailure
    }

    /// The addresses to try for a domain, most preferred first; or why there are none.
    func endpoints(for domain: String) async -> Result<[SMTPClient.Endpoint], SMTPError> {
        // An address literal ([192.0.2.1], [IPv6:2001:db8::1]) names the host itself.
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            var ip = String(domain.dropFirst().dropLast())
            if ip.lowercased().hasPrefix("ipv6:") { ip = String(ip.dropFirst(5)) }
            guard IPAddress(ip) != nil else { return .failure(SMTPError(553, .init(5, 1, 2), "Bad address literal \(domain)")) }
            return .success([SMTPClient.Endpoint(host: ip, port: port)])
        }
        let answer: DNSAnswer
        do {
            answer = try await resolver.lookup(domain, .mx)
        } catch {
            return .failure(SMTPError(451, .init(4, 4, 3), "DNS lookup of \(domain) MX failed; will retry", reason: error.message))
        }
        let hosts: [MXSelection.Host]
        switch MXSelection.hosts(domain: domain, answer: answer, ownHostname: hostname) {
        case .failure(let e): return .failure(e)
        case .success(let h): hosts = h
        }
        var out: [SMTPClient.Endpoint] = []
        var dnsTrouble: String?
        for host in hosts {
            for type in [DNSRecordType.a, .aaaa] {
                do {
                    let a = try await resolver.lookup(host.name, type)
                    out += a.addresses.map { SMTPClient.Endpoint(host: $0, port: port, serverName: host.name) }
                } catch {
                    dnsTrouble = error.message
                }
            }
            if out.count >= Self.addressLimit { break }
        }
        if out.isEmpty {
            if let dnsTrouble {
                return .failure(SMTPError(451, .init(4, 4, 3), "DNS lookup of \(domain)'s mail hosts failed; will retry", reason: dnsTrouble))
            }
            let names = hosts.map(\.name).joined(separator: ", ")
            return .failure(SMTPError(550, .init(5, 4, 4), "No address for the mail hosts of \(domain) (\(names))"))
        }
        return .success(out)
    }
}
