// ARCVerifier: the chain validation of RFC 8617 §5.2. Every ARC-Seal must
// verify (over the ARC sets up to its own, in instance order, relaxed), the
// newest ARC-Message-Signature must verify (its body hash and its header
// hash, as a DKIM signature is checked), cv= must be none for i=1 and pass
// after; a seal that says cv=fail ends the chain. Keys come from DNS through
// the resolver. A key that cannot be fetched makes the chain temperror-like
// "fail" with the reason, never a pass.

import Crypto
import Foundation
import SluiceCore
import SluiceMailAuth

public struct ARCVerifier: Sendable {
    let resolver: any DNSResolver

    public init(resolver: any DNSResolver) { self.resolver = resolver }

    /// The chain of a message: `header` its header section (CRLF), `body` feeds its body in chunks.
    /// `trusted`: arc.trusted_sealers, whose recorded results a passing chain carries.
    public func verify(header: [UInt8], trusted: [String] = [], body: (([UInt8]) throws -> Void) throws -> Void) async -> ARCResults {
        let fields = HeaderFields.split(header)
        let chain: ARCChain
        do { chain = try ARCChain.read(fields) } catch { return ARCResults(status: .fail, instances: 0, reason: error.description) }
        guard let newest = chain.sets.last else { return ARCResults(status: .none, instances: 0, reason: "no ARC sets") }
        let n = chain.sets.count
        func fail(_ why: String) -> ARCResults { ARCResults(status: .fail, instances: n, reason: why, sealers: chain.sets.map { $0.sealTags["d"] ?? "" }) }

        // cv= of each seal, newest first: a fail ends the chain; none only at i=1, pass after.
        for set in chain.sets.reversed() {
            let cv = (set.sealTags["cv"] ?? "").lowercased()
            if cv == "fail" { return fail("ARC-Seal i=\(set.instance) says cv=fail: the chain ended before this hop") }
            if set.instance == 1 && cv != "none" { return fail("ARC-Seal i=1 says cv=\(cv), not none") }
            if set.instance > 1 && cv != "pass" { return fail("ARC-Seal i=\(set.instance) says cv=\(cv), not pass") }
            if set.sealTags["h"] != nil { return fail("ARC-Seal i=\(set.instance) has an h= tag") }
        }

        // The newest AMS: body hash, then header hash and signature.
        let ams = newest.signatureTags
        guard (ams["a"] ?? "").lowercased() == "rsa-sha256" else { return fail("ARC-Message-Signature i=\(n): algorithm \(ams["a"] ?? "none") is not rsa-sha256") }
        let c = (ams["c"] ?? "relaxed/relaxed").lowercased().split(separator: "/").map(String.init)
        let headerC = DKIMCanonicalization(rawValue: c.first ?? "relaxed") ?? .relaxed
        let bodyC = DKIMCanonicalization(rawValue: c.count > 1 ? c[1] : "simple") ?? .simple
        var bodyHash = SHA256()
        var canonicalizer = DKIMBodyCanonicalizer(bodyC)
        do {
            try body { chunk in chunk.withUnsafeBytes { canonicalizer.update($0) { bodyHash.update(bufferPointer: $0) } } }
        } catch {
            return fail("the message body could not be read: \(error)")
        }
        canonicalizer.finish { bodyHash.update(bufferPointer: $0) }
        guard Data(bodyHash.finalize()).base64EncodedString() == ams["bh"] else {
            return fail("ARC-Message-Signature i=\(n): the body hash does not match (the body changed)")
        }
        guard let names = ams["h"]?.split(separator: ":").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
            !names.contains("arc-seal")
        else { return fail("ARC-Message-Signature i=\(n): no h= tag, or it signs ARC-Seal") }
        var headerHash = SHA256()
        var taken = Set<Int>()
        let lowered = fields.map { Self.name($0) }
        for name in names {
            // The last instance of the name not yet taken (RFC 6376 §5.4.2); a missing one hashes as nothing.
            guard let pick = lowered.indices.last(where: { lowered[$0] == name && !taken.contains($0) }) else { continue }
            taken.insert(pick)
            headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(fields[pick], headerC))
        }
        headerHash.update(data: DKIMHeaderCanonicalizer.canonicalize(ARCChain.withoutSignature(newest.messageSignature), headerC, crlf: false))
        switch await check(ams, digest: Array(headerHash.finalize())) {
        case .failure(let why): return fail("ARC-Message-Signature i=\(n): \(why)")
        case .success: break
        }

        // Every seal, over the sets up to its own.
        for set in chain.sets {
            guard (set.sealTags["a"] ?? "").lowercased() == "rsa-sha256" else { return fail("ARC-Seal i=\(set.instance): algorithm is not rsa-sha256") }
            var sealHash = SHA256()
            for earlier in chain.sets.prefix(set.instance) {
                sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(earlier.results, .relaxed))
                sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(earlier.messageSignature, .relaxed))
                if earlier.instance < set.instance {
                    sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(earlier.seal, .relaxed))
                } else {
                    sealHash.update(data: DKIMHeaderCanonicalizer.canonicalize(ARCChain.withoutSignature(earlier.seal), .relaxed, crlf: false))
                }
            }
            if case .failure(let why) = await check(set.sealTags, digest: Array(sealHash.finalize())) {
                return fail("ARC-Seal i=\(set.instance): \(why)")
            }
        }
        var result = ARCResults(status: .pass, instances: n, reason: nil, sealers: chain.sets.map { $0.sealTags["d"] ?? "" })
        // The trusted sealer nearest the origin: what it saw before later hops changed the message.
        if let first = chain.sets.first(where: { trusted.contains(($0.sealTags["d"] ?? "").lowercased()) }) {
            result.recorded = RecordedResults.parse(first.results)
            result.recordedBy = first.sealTags["d"]?.lowercased()
        }
        return result
    }

    /// The signature b= of `tags` over `digest`, with the key of s= and d= from DNS.
    func check(_ tags: [String: String], digest: [UInt8]) async -> Result<Void, CheckFailure> {
        guard let d = tags["d"], let s = tags["s"], let b = tags["b"], let signature = Data(base64Encoded: b) else {
            return .failure(CheckFailure("missing d=, s= or b="))
        }
        let name = "\(s)._domainkey.\(d)"
        let answer: DNSAnswer
        do { answer = try await resolver.lookup(name, .txt) } catch { return .failure(CheckFailure("key \(name) not fetched: \(error.message)")) }
        guard let record = answer.texts.first(where: { $0.contains("p=") }), let key = ARCPublicKey(record: record) else {
            return .failure(CheckFailure("no usable RSA key at \(name)"))
        }
        guard key.bits >= 1024 else { return .failure(CheckFailure("the key at \(name) has \(key.bits) bits")) }
        return key.verify(signature: Array(signature), digest: digest) ? .success(()) : .failure(CheckFailure("the signature does not verify with \(name)"))
    }

    struct CheckFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func name(_ field: [UInt8]) -> String {
        guard let colon = field.firstIndex(of: 0x3A) else { return "" }
        return String(decoding: field[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
    }
}
