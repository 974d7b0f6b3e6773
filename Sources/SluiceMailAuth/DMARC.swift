// DMARC (RFC 7489): the policy record of the From: domain (or of its
// organizational domain), identifier alignment of the SPF and DKIM results
// (relaxed or strict), and the disposition p=/sp= with pct= sampling.
// Pure apart from the record lookup, which goes through the resolver.

import SluiceCore

public struct DMARCRecord: Sendable, Hashable {
    public enum Policy: String, Sendable { case none, quarantine, reject }

    public var policy: Policy
    public var subdomainPolicy: Policy?
    public var percent: Int
    public var strictDKIM: Bool
    public var strictSPF: Bool

    /// Parses "v=DMARC1; p=reject; ..." (v= first, p= required; unknown tags ignored).
    public static func parse(_ text: String) -> DMARCRecord? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.range(of: "^v\\s*=\\s*DMARC1\\s*(;|$)", options: [.regularExpression, .caseInsensitive]) != nil else { return nil }
        var tags: [String: String] = [:]
        for part in trimmed.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, tags[kv[0].lowercased()] == nil { tags[kv[0].lowercased()] = kv[1] }
        }
        guard let p = tags["p"].flatMap({ Policy(rawValue: $0.lowercased()) }) else {
            // §6.6.3: an invalid or missing p= with a rua= is treated as p=none; otherwise no record.
            guard tags["rua"] != nil else { return nil }
            return DMARCRecord(policy: .none, subdomainPolicy: nil, percent: 100, strictDKIM: false, strictSPF: false)
        }
        return DMARCRecord(
            policy: p, subdomainPolicy: tags["sp"].flatMap { Policy(rawValue: $0.lowercased()) },
            percent: min(100, max(0, Int(tags["pct"] ?? "100") ?? 100)),
            strictDKIM: tags["adkim"]?.lowercased() == "s", strictSPF: tags["aspf"]?.lowercased() == "s")
    }
}

public struct DMARCResult: Sendable, Hashable {
    public enum Verdict: String, Sendable { case pass, fail, none, temperror, permerror }

    public var verdict: Verdict
    public var fromDomain: String
    /// The policy that applies to this message (after sp= and pct=); nil when there is no record.
    public var disposition: DMARCRecord.Policy?
    public var record: DMARCRecord?
    /// The record's policy before pct sampling, for Authentication-Results ("p=reject").
    public var published: DMARCRecord.Policy?
}

public struct DMARCEvaluator: Sendable {
    let resolver: any DNSResolver
    let suffixes: PublicSuffixList

    public init(resolver: any DNSResolver, suffixes: PublicSuffixList = .system()) {
        self.resolver = resolver
        self.suffixes = suffixes
    }

    /// `sample` is a number in 0..<100 compared with pct= (random in production, fixed in tests).
    public func evaluate(fromDomain: String, spf: SPFResult?, dkim: [DKIMResult], sample: Int = Int.random(in: 0..<100)) async
        -> DMARCResult
    {
        let from = fromDomain.lowercased()
        let org = suffixes.organizationalDomain(from)
        var found: (DMARCRecord, atOrg: Bool)?
        do throws(DNSError) {
            if let r = try await record(at: "_dmarc.\(from)") {
                found = (r, false)
            } else if org != from, let r = try await record(at: "_dmarc.\(org)") {
                found = (r, true)
            }
        } catch {
            return DMARCResult(verdict: .temperror, fromDomain: from)
        }
        guard let (record, atOrg) = found else { return DMARCResult(verdict: .none, fromDomain: from) }
        let dkimAligned = dkim.contains { $0.verdict == .pass && aligned($0.domain, from, strict: record.strictDKIM) }
        let spfAligned = spf.map { $0.verdict == .pass && $0.scope == "mailfrom" && aligned($0.identity, from, strict: record.strictSPF) } ?? false
        let published = atOrg ? (record.subdomainPolicy ?? record.policy) : record.policy
        if dkimAligned || spfAligned {
            return DMARCResult(verdict: .pass, fromDomain: from, disposition: DMARCRecord.Policy.none, record: record, published: published)
        }
        // §6.6.4: outside the pct= sample, the next less strict policy applies.
        var disposition = published
        if sample >= record.percent {
            disposition = published == .reject ? .quarantine : DMARCRecord.Policy.none
        }
        return DMARCResult(verdict: .fail, fromDomain: from, disposition: disposition, record: record, published: published)
    }

    func aligned(_ domain: String, _ from: String, strict: Bool) -> Bool {
        let d = domain.lowercased()
        if strict { return d == from }
        return suffixes.organizationalDomain(d) == suffixes.organizationalDomain(from)
    }

    /// The one DMARC record at this name; several or none mean no policy (§6.6.3).
    func record(at name: String) async throws(DNSError) -> DMARCRecord? {
        let answer = try await resolver.lookup(name, .txt)
        let records = answer.texts.compactMap(DMARCRecord.parse)
        return records.count == 1 ? records[0] : nil
    }
}

extension DMARCResult {
    init(verdict: Verdict, fromDomain: String) {
        self.init(verdict: verdict, fromDomain: fromDomain, disposition: nil, record: nil, published: nil)
    }
}
